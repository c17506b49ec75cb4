"""Shapes of the scheduling API. Which trainers and clients a viewer may name comes from the CRM
selectors, so naming one they cannot see is a 400, not a hint that it exists."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core import dates
from apps.crm import selectors as crm_selectors
from apps.scheduling.models import Appointment, Room


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = (
            "id",
            "trainer",
            "client",
            "room",
            "video_link",
            "starts_at",
            "ends_at",
            "status",
            "notes",
            "created_at",
            "checked_in_at",
        )
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class _ViewerQuerysetField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up among what the requesting user may see."""

    def __init__(self, selector: Any, **kwargs: Any) -> None:
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.selector(viewer=self.context["request"].user)


class AppointmentBookSerializer(serializers.Serializer):
    trainer = _ViewerQuerysetField(crm_selectors.trainer_list)
    client = _ViewerQuerysetField(crm_selectors.client_list)
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.all(), required=False, allow_null=True
    )
    starts_at = dates.DateTimeField()
    ends_at = dates.DateTimeField()
    video_link = serializers.URLField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    override_availability = serializers.BooleanField(required=False, default=False)
    # An owner or manager books a client who holds no valid membership or session credit.
    override_membership = serializers.BooleanField(required=False, default=False)


class AppointmentCancelSerializer(serializers.Serializer):
    waive_late = serializers.BooleanField(required=False, default=False)


class FreeSlotsQuerySerializer(serializers.Serializer):
    MAX_DAYS = 62

    trainer = _ViewerQuerysetField(crm_selectors.trainer_list)
    # `from` is a Python keyword: the query parameter is mapped onto date_from.
    date_from = dates.DateField()
    date_to = dates.DateField()
    slot_minutes = serializers.IntegerField(required=False, default=60, min_value=5, max_value=480)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        mapped = {
            "trainer": data.get("trainer"),
            "date_from": data.get("from"),
            "date_to": data.get("to"),
        }
        if data.get("slot_minutes") not in (None, ""):
            mapped["slot_minutes"] = data.get("slot_minutes")
        try:
            return super().to_internal_value(mapped)
        except serializers.ValidationError as error:
            renamed = {"date_from": "from", "date_to": "to"}
            raise serializers.ValidationError(
                {renamed.get(k, k): v for k, v in error.detail.items()}
            ) from error

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        days = (attrs["date_to"] - attrs["date_from"]).days
        if days < 0:
            raise serializers.ValidationError({"to": [_("Must not be before `from`.")]})
        if days >= self.MAX_DAYS:
            raise serializers.ValidationError(
                {"to": [_("Ask for at most %(days)d days.") % {"days": self.MAX_DAYS}]}
            )
        return attrs


class FreeSlotSerializer(serializers.Serializer):
    starts_at = dates.DateTimeField()
    ends_at = dates.DateTimeField()
