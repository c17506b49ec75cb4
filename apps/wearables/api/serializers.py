"""Serializers of the wearables API: read-only views of connections, daily rows and outside
workouts (writes go through apps.wearables.services)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.wearables.models import Connection, ExternalWorkout


class ConnectionSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="get_provider_display", read_only=True)
    status_name = serializers.CharField(source="get_status_display", read_only=True)
    kinds = serializers.ListField(
        source="kind_list",
        child=serializers.CharField(),
        read_only=True,
        help_text=_("The kinds of data the client chose to share."),
    )
    can_sync = serializers.BooleanField(
        read_only=True, help_text=_("Whether `sync` can be asked for (uploads cannot).")
    )

    class Meta:
        model = Connection
        fields = [
            "id",
            "client",
            "provider",
            "provider_name",
            "status",
            "status_name",
            "kinds",
            "last_sync_at",
            "last_error",
            "next_attempt_at",
            "can_sync",
        ]
        read_only_fields = fields


class SyncQueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField(read_only=True)


class DaySerializer(serializers.Serializer):
    date = serializers.DateField(read_only=True)
    provider = serializers.CharField(read_only=True)
    device = serializers.CharField(read_only=True)
    time_zone = serializers.CharField(read_only=True)
    values = serializers.DictField(
        read_only=True,
        help_text=_(
            "The day's figures for the kind: activity: steps, distance_m, active_minutes, "
            "calories_kcal; heart_rate: resting_bpm, zone_1_minutes..zone_5_minutes; sleep: "
            "start_at, end_at, asleep_minutes, deep_minutes, light_minutes, rem_minutes, "
            "awake_minutes; nutrition: calories_kcal, protein_g, carbohydrate_g, fat_g, "
            "water_ml, meals. Null where the source gave nothing."
        ),
    )


class WorkoutSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalWorkout
        fields = [
            "id",
            "client",
            "provider",
            "provider_id",
            "device",
            "sport",
            "name",
            "start_at",
            "date",
            "time_zone",
            "duration_seconds",
            "moving_seconds",
            "distance_m",
            "elevation_gain_m",
            "average_heart_rate",
            "max_heart_rate",
            "calories_kcal",
        ]
        read_only_fields = fields
