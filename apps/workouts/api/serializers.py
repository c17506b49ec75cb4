"""Shapes of the workouts API. Input serializers check the shape of a request; the rules (who
may log for whom, skipped exercises, idempotency) are the services'. Output serializers read
what the selectors prefetched and never query per row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core import dates
from apps.crm.api.serializers import VisibleRelatedField
from apps.crm.models import Client
from apps.training.models import Exercise, PlanItem, ScheduledWorkout
from apps.workouts import selectors
from apps.workouts.models import (
    MAX_HEART_RATE,
    MAX_WEEKLY_TARGET,
    MIN_HEART_RATE,
    RPE_VALUES,
    CardioLog,
    SetLog,
    WorkoutLog,
)
from apps.workouts.services import LOAD_UNITS

RPE_CHOICES = [format(value, "f") for value in RPE_VALUES]


class SetLogSerializer(serializers.ModelSerializer):
    workout = serializers.IntegerField(source="log_id", read_only=True)
    exercise_name = serializers.CharField(source="exercise.name", read_only=True)
    rpe = serializers.DecimalField(max_digits=3, decimal_places=1, read_only=True, allow_null=True)

    class Meta:
        model = SetLog
        fields = (
            "id",
            "workout",
            "exercise",
            "exercise_name",
            "plan_item",
            "set_number",
            "reps",
            "load_kg",
            "duration_seconds",
            "rpe",
            "rir",
            "skipped",
            "client_uuid",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class SetLogUpdateSerializer(serializers.Serializer):
    reps = serializers.IntegerField(min_value=0, max_value=1000, required=False, allow_null=True)
    load = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text=_("In `weight_unit`; stored in kg."),
    )
    # Named weight_unit in the API: "load_unit" is the plan's wider choice set (kg, lb, %1RM...).
    weight_unit = serializers.ChoiceField(
        source="load_unit",
        choices=LOAD_UNITS,
        required=False,
        help_text=_("kg or lb; default: the signed-in user's preferred unit."),
    )
    duration_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    rpe = serializers.ChoiceField(
        choices=RPE_CHOICES,
        required=False,
        allow_null=True,
        help_text=_("Rate of perceived exertion, 1 to 10 in half points."),
    )
    rir = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    skipped = serializers.BooleanField(required=False)

    def validate_rpe(self, value: Any) -> Any:
        return None if value in (None, "") else Decimal(value)


class SetLogCreateSerializer(SetLogUpdateSerializer):
    workout = VisibleRelatedField(
        selector=selectors.workout_log_list, queryset=WorkoutLog.objects.all()
    )
    exercise = serializers.PrimaryKeyRelatedField(queryset=Exercise.objects.filter(is_active=True))
    plan_item = serializers.PrimaryKeyRelatedField(
        queryset=PlanItem.objects.all(), required=False, allow_null=True
    )
    set_number = serializers.IntegerField(
        min_value=1,
        max_value=100,
        required=False,
        help_text=_("Default: the next set of this exercise in the workout."),
    )
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_(
            "Made by the app for each set: resending the same id returns the first set (200) "
            "instead of logging it twice."
        ),
    )


class CardioLogSerializer(serializers.ModelSerializer):
    workout = serializers.IntegerField(source="log_id", read_only=True)
    exercise_name = serializers.CharField(source="exercise.name", read_only=True)

    class Meta:
        model = CardioLog
        fields = (
            "id",
            "workout",
            "exercise",
            "exercise_name",
            "plan_item",
            "duration_seconds",
            "distance_m",
            "average_heart_rate",
            "skipped",
            "client_uuid",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class CardioLogUpdateSerializer(serializers.Serializer):
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=24 * 3600, required=False, allow_null=True
    )
    distance_m = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True
    )
    average_heart_rate = serializers.IntegerField(
        min_value=MIN_HEART_RATE, max_value=MAX_HEART_RATE, required=False, allow_null=True
    )
    skipped = serializers.BooleanField(required=False)


class CardioLogCreateSerializer(CardioLogUpdateSerializer):
    workout = VisibleRelatedField(
        selector=selectors.workout_log_list, queryset=WorkoutLog.objects.all()
    )
    exercise = serializers.PrimaryKeyRelatedField(queryset=Exercise.objects.filter(is_active=True))
    plan_item = serializers.PrimaryKeyRelatedField(
        queryset=PlanItem.objects.all(), required=False, allow_null=True
    )
    client_uuid = serializers.UUIDField(required=False, allow_null=True)


class WorkoutLogSerializer(serializers.ModelSerializer):
    sets = SetLogSerializer(many=True, read_only=True)
    cardio = CardioLogSerializer(many=True, read_only=True)

    class Meta:
        model = WorkoutLog
        fields = (
            "id",
            "client",
            "scheduled_workout",
            "performed_on",
            "started_at",
            "completed_at",
            "notes",
            "perceived_effort",
            "client_uuid",
            "sets",
            "cardio",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class WorkoutLogCreateSerializer(serializers.Serializer):
    client = VisibleRelatedField(
        selector=selectors.trainable_clients,
        queryset=Client.objects.none(),
        required=False,
        help_text=_("Required for staff; a client logs for themselves."),
    )
    scheduled_workout = VisibleRelatedField(
        selector=selectors.scheduled_workout_list,
        queryset=ScheduledWorkout.objects.none(),
        required=False,
        allow_null=True,
    )
    performed_on = dates.DateField(required=False)
    client_uuid = serializers.UUIDField(required=False, allow_null=True)


class WorkoutLogUpdateSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True)
    perceived_effort = serializers.IntegerField(
        min_value=1, max_value=10, required=False, allow_null=True
    )
    performed_on = dates.DateField(required=False)


class WorkoutCompleteSerializer(serializers.Serializer):
    perceived_effort = serializers.IntegerField(
        min_value=1, max_value=10, required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class TrainingStatsQuerySerializer(serializers.Serializer):
    client = VisibleRelatedField(
        selector=selectors.trainable_clients, queryset=Client.objects.none()
    )


class AdherenceSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    completed = serializers.IntegerField()
    scheduled = serializers.IntegerField()
    percent = serializers.FloatField(
        allow_null=True, help_text=_("Null when nothing was scheduled in the window.")
    )


class RecordSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    on = dates.DateField()
    reps = serializers.IntegerField(allow_null=True)
    load_kg = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)


class ExerciseRecordsSerializer(serializers.Serializer):
    exercise = serializers.IntegerField()
    exercise_name = serializers.CharField()
    heaviest = RecordSerializer(allow_null=True)
    best_e1rm = RecordSerializer(allow_null=True, help_text=_("Epley estimate."))
    most_reps = RecordSerializer(allow_null=True)
    best_session_volume = RecordSerializer(allow_null=True)


class MuscleGroupVolumeSerializer(serializers.Serializer):
    group = serializers.CharField()
    sets = serializers.DecimalField(max_digits=8, decimal_places=1)
    volume_kg = serializers.DecimalField(max_digits=12, decimal_places=2)


class WeeklyVolumeSerializer(serializers.Serializer):
    week = dates.DateField(help_text=_("The Monday of the week."))
    groups = MuscleGroupVolumeSerializer(many=True)


class TrainingStatsSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    today = dates.DateField(help_text=_("Today in the gym's time zone."))
    adherence = AdherenceSerializer(many=True)
    weekly_target = serializers.IntegerField(min_value=1, max_value=MAX_WEEKLY_TARGET)
    streak_weeks = serializers.IntegerField()
    needs_attention = serializers.BooleanField()
    records = ExerciseRecordsSerializer(many=True)
    weekly_volume = WeeklyVolumeSerializer(many=True)


def _record(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"value": record.value, "on": record.on, "reps": record.reps, "load_kg": record.load_kg}


def training_stats_data(stats: selectors.TrainingStats) -> dict[str, Any]:
    """The plain data TrainingStatsSerializer describes."""
    return {
        "client": stats.client.pk,
        "today": stats.today,
        "adherence": [
            {
                "days": days,
                "completed": value.completed,
                "scheduled": value.scheduled,
                "percent": value.percent,
            }
            for days, value in stats.adherence.items()
        ],
        "weekly_target": stats.weekly_target,
        "streak_weeks": stats.streak,
        "needs_attention": stats.needs_attention,
        "records": [
            {
                "exercise": item.exercise.pk,
                "exercise_name": item.exercise.name,
                "heaviest": _record(item.records.heaviest),
                "best_e1rm": _record(item.records.best_e1rm),
                "most_reps": _record(item.records.most_reps),
                "best_session_volume": _record(item.records.best_session_volume),
            }
            for item in stats.exercises
        ],
        "weekly_volume": [
            {
                "week": week["week"],
                "groups": [
                    {"group": group, "sets": totals["sets"], "volume_kg": totals["volume_kg"]}
                    for group, totals in sorted(week["groups"].items())
                ],
            }
            for week in stats.weekly_volume
        ],
    }


class WeeklyTargetSerializer(serializers.Serializer):
    client = VisibleRelatedField(
        selector=selectors.trainable_clients, queryset=Client.objects.none()
    )
    workouts_per_week = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WEEKLY_TARGET,
        help_text=_("Workouts a week the client aims for; streaks count weeks that meet it."),
    )
