"""GET /api/v1/gym/: the current gym's name, time zone, identity and opening hours, for the
mobile app.
Read-only; any signed-in user of the gym may read it (it is what the front door shows)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import dates
from apps.tenants.selectors import current_gym, gym_opening_hours, special_day_list


class OpeningRangeSerializer(serializers.Serializer):
    opens_at = serializers.TimeField(format="%H:%M")
    closes_at = serializers.TimeField(format="%H:%M")


class WeekdayHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 is Monday.")
    closed = serializers.BooleanField(source="is_closed")
    ranges = OpeningRangeSerializer(many=True)


class SpecialDaySerializer(serializers.Serializer):
    date = dates.DateField()
    name = serializers.CharField()
    closed = serializers.BooleanField(source="is_closed")
    opens_at = serializers.TimeField(format="%H:%M", allow_null=True)
    closes_at = serializers.TimeField(format="%H:%M", allow_null=True)


class GymInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="IANA name; every time here is local to it.")
    brand_colour = serializers.CharField(help_text="#rrggbb; white text is readable on it.")
    logo_url = serializers.CharField(allow_null=True, help_text="Path on the gym's host, or null.")
    icon_url = serializers.CharField(help_text="A 512x512 PNG: the gym's icon or the default.")
    address = serializers.CharField(allow_blank=True)
    contact_email = serializers.CharField(allow_blank=True)
    contact_phone = serializers.CharField(allow_blank=True, help_text="E.164, or empty.")
    currency = serializers.CharField(help_text="ISO 4217: every amount is in it.")
    unit_system = serializers.CharField(help_text="metric or imperial, for users with no choice.")
    language = serializers.CharField(help_text="For users who have not chosen their own.")
    opening_hours = WeekdayHoursSerializer(many=True)
    special_days = SpecialDaySerializer(many=True, help_text="Today and later.")


class GymInfoApi(APIView):
    """The gym the request is for: times of day are its local wall time."""

    @extend_schema(responses={200: GymInfoSerializer}, operation_id="gym_retrieve")
    def get(self, request: Request) -> Response:
        gym = current_gym()
        today = timezone.localdate(timezone=ZoneInfo(gym.time_zone))
        version = f"?v={gym.brand_version}"
        body: dict[str, Any] = {
            "name": gym.name,
            "time_zone": gym.time_zone,
            "brand_colour": gym.brand_colour,
            "logo_url": f"{reverse('brand_logo')}{version}" if gym.logo_name else None,
            "icon_url": f"{reverse('brand_icon')}{version}",
            "address": gym.address,
            "contact_email": gym.contact_email,
            "contact_phone": gym.contact_phone,
            "currency": gym.currency,
            "unit_system": gym.unit_system,
            "language": gym.language,
            "opening_hours": gym_opening_hours(gym),
            "special_days": special_day_list(gym=gym, since=today),
        }
        return Response(GymInfoSerializer(body).data)


urlpatterns = [path("gym/", GymInfoApi.as_view(), name="gym-info")]
