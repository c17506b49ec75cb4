"""Shapes of the group-class API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core import dates
from apps.crm import selectors as crm_selectors
from apps.scheduling.api.serializers import _ViewerQuerysetField
from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassType


class ClassTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassType
        fields = (
            "id",
            "name",
            "description",
            "default_capacity",
            "duration_minutes",
            "colour",
            "booking_opens_days",
            "booking_closes_minutes",
            "late_cancel_minutes",
        )
        read_only_fields = fields


class OccurrenceSerializer(serializers.ModelSerializer):
    class_type_name = serializers.CharField(source="class_type.name", read_only=True)
    spots_left = serializers.IntegerField(read_only=True)
    waitlisted = serializers.IntegerField(read_only=True)

    class Meta:
        model = ClassOccurrence
        fields = (
            "id",
            "series",
            "class_type",
            "class_type_name",
            "trainer",
            "room",
            "starts_at",
            "ends_at",
            "capacity",
            "spots_left",
            "waitlisted",
            "is_cancelled",
        )
        read_only_fields = fields


class OccurrenceQuerySerializer(serializers.Serializer):
    date_from = dates.DateField(required=False)
    date_to = dates.DateField(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        mapped = {
            k: data.get(v) for k, v in (("date_from", "from"), ("date_to", "to")) if data.get(v)
        }
        try:
            return super().to_internal_value(mapped)
        except serializers.ValidationError as error:
            renamed = {"date_from": "from", "date_to": "to"}
            raise serializers.ValidationError(
                {renamed.get(k, k): v for k, v in error.detail.items()}
            ) from error


class ClassBookingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassBooking
        fields = (
            "id",
            "occurrence",
            "client",
            "status",
            "waitlist_position",
            "created_at",
            "checked_in_at",
        )
        read_only_fields = fields


class ClassBookSerializer(serializers.Serializer):
    """`client` may be left out by a client booking themselves. `override_membership`: an
    owner or manager books a client who holds no valid membership or credit."""

    client = _ViewerQuerysetField(crm_selectors.client_list, required=False)
    override_membership = serializers.BooleanField(required=False, default=False)


class ClassCancelSerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list, required=False)
    waive_late = serializers.BooleanField(required=False, default=False)
