"""Shapes of the booking-policy API: strikes, a client's block state, waiving."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core import dates
from apps.crm import selectors as crm_selectors
from apps.scheduling.api.serializers import _ViewerQuerysetField
from apps.scheduling.models import Strike


class StrikeSerializer(serializers.ModelSerializer):
    is_waived = serializers.SerializerMethodField()

    class Meta:
        model = Strike
        fields = (
            "id",
            "client",
            "kind",
            "appointment",
            "class_booking",
            "occurred_at",
            "is_waived",
            "waived_at",
            "waived_by",
            "waive_reason",
        )
        read_only_fields = fields

    def get_is_waived(self, obj: Strike) -> bool:
        return obj.waived_at is not None


class StrikeQuerySerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list, required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return super().to_internal_value({k: v for k, v in data.items() if v not in ("", None)})


class BlockQuerySerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list)


class BlockStateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    active_strikes = serializers.IntegerField()
    strike_limit = serializers.IntegerField()
    is_blocked = serializers.BooleanField()
    blocked_until = dates.DateTimeField(allow_null=True)


class StrikeWaiveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CheckInSerializer(serializers.Serializer):
    """`client` (an id) names whose booking of the class to check in; a trainer may name any
    client booked into their own class, so it is looked up among the class's bookings."""

    client = serializers.IntegerField(min_value=1)
