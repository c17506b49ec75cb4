"""Shapes of the training API. Input serializers check the shape of a request (types, choices);
the rules (library read-only, who may edit a plan, prescriptions that make sense) are the
services'. Output serializers read what the selectors prefetched and never query per row."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.core import dates
from apps.crm.api.serializers import VisibleRelatedField
from apps.training import selectors
from apps.training.models import (
    Exercise,
    ItemKind,
    LoadUnit,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanStatus,
    PlanWeek,
    ScheduledWorkout,
    ScheduledWorkoutStatus,
    WorkoutPlan,
)
from apps.training.services import EXERCISE_FIELDS, ITEM_FIELDS
from apps.training.vocabulary import Muscle


def inline_choices(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose enum stays inline in the schema. Generic names ("status", "kind",
    "load_unit") and the muscle list used twice would otherwise become enum components that
    collide with other apps' (a warning); wrapped in allOf, the enum hook leaves it in place.
    A subclass carries the schema: DRF copies field instances, not their attributes."""
    values = [value for value, _label in choices]
    if kwargs.get("allow_blank"):
        values.append("")
    schema = {"allOf": [{"type": "string", "enum": values}]}
    field_class = extend_schema_field(schema)(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


@extend_schema_field(
    {"type": "array", "items": {"allOf": [{"type": "string", "enum": list(Muscle.values)}]}}
)
class MuscleListField(serializers.ListField):
    """Muscles (apps.training.vocabulary.Muscle); one inline enum for primary and secondary."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=Muscle.choices), **kwargs)


def muscle_list(**kwargs: Any) -> serializers.ListField:
    return MuscleListField(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class VisibleIdField(VisibleRelatedField):
    """An id among what the user may see, documented as an integer."""


def _viewer(serializer: serializers.Field | serializers.Serializer) -> User:
    return serializer.context["request"].user


# --- Exercises -------------------------------------------------------------------------------


class ExerciseRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exercise
        fields = ("id", "name", "tracking", "is_library")


class ExerciseSerializer(serializers.ModelSerializer):
    variation_of = ExerciseRefSerializer(read_only=True)
    primary_muscles = muscle_list(read_only=True)
    secondary_muscles = muscle_list(read_only=True)
    can_edit = serializers.SerializerMethodField(
        help_text=_("Whether the requesting user may change or delete this exercise.")
    )

    class Meta:
        model = Exercise
        fields = (
            "id",
            "slug",
            "name",
            "aliases",
            "category",
            "primary_muscles",
            "secondary_muscles",
            "equipment",
            "mechanics",
            "tracking",
            "instructions",
            "cues",
            "licence",
            "is_library",
            "variation_of",
            "is_active",
            "can_edit",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_can_edit(self, exercise: Exercise) -> bool:
        # No query: the role and created_by_id are at hand.
        return selectors.can_edit_exercise(viewer=_viewer(self), exercise=exercise)


class ExerciseWriteSerializer(serializers.ModelSerializer):
    variation_of = VisibleIdField(
        selector=lambda viewer: selectors.exercise_list(viewer=viewer, include_inactive=True),
        required=False,
        allow_null=True,
        help_text=_("The exercise (library or the gym's own) this one is a variation of."),
    )
    primary_muscles = muscle_list(min_length=1)
    secondary_muscles = muscle_list(required=False)

    class Meta:
        model = Exercise
        # What a gym may set on its own exercises: the services' own list.
        fields = EXERCISE_FIELDS
        # Uniqueness is the service's (case-insensitive, against the library too).
        validators: list[Any] = []


class ExerciseVariationSerializer(ExerciseWriteSerializer):
    """A variation: any field left out is taken from the exercise it varies."""

    primary_muscles = muscle_list(required=False, min_length=1)

    class Meta(ExerciseWriteSerializer.Meta):
        fields = tuple(f for f in ExerciseWriteSerializer.Meta.fields if f != "variation_of")
        extra_kwargs = {
            field: {"required": False}
            for field in ExerciseWriteSerializer.Meta.fields
            if field not in ("name", "variation_of")
        }


# --- Plans: read -----------------------------------------------------------------------------


class PlanItemSerializer(serializers.ModelSerializer):
    exercise = ExerciseRefSerializer(read_only=True)
    kind = inline_choices(ItemKind.choices, read_only=True)
    load_unit = inline_choices(LoadUnit.choices, read_only=True, allow_blank=True)

    class Meta:
        model = PlanItem
        fields = ("id", "order", *ITEM_FIELDS)
        read_only_fields = fields


class PlanDaySerializer(serializers.ModelSerializer):
    items = PlanItemSerializer(many=True, read_only=True)

    class Meta:
        model = PlanDay
        fields = ("id", "offset", "name", "notes", "items")
        read_only_fields = fields


class PlanWeekSerializer(serializers.ModelSerializer):
    days = PlanDaySerializer(many=True, read_only=True)

    class Meta:
        model = PlanWeek
        fields = ("id", "number", "notes", "days")
        read_only_fields = fields


class PlanPhaseSerializer(serializers.ModelSerializer):
    weeks = PlanWeekSerializer(many=True, read_only=True)

    class Meta:
        model = PlanPhase
        fields = ("id", "order", "name", "notes", "weeks")
        read_only_fields = fields


class ClientRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class PlanSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True, allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    status = inline_choices(PlanStatus.choices, read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = WorkoutPlan
        fields = (
            "id",
            "name",
            "description",
            "goal",
            "is_template",
            "client",
            "source",
            "start_date",
            "status",
            "created_by",
            "can_edit",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_can_edit(self, plan: WorkoutPlan) -> bool:
        viewer = _viewer(self)
        if plan.is_template or is_management(viewer):
            return selectors.can_edit_plan(viewer=viewer, plan=plan)
        # A trainer sees a client's plan only while coaching the client (the selector's rule).
        return viewer.role == "trainer"


class PlanDetailSerializer(PlanSerializer):
    phases = PlanPhaseSerializer(many=True, read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = (*PlanSerializer.Meta.fields, "phases")
        read_only_fields = fields


# --- Plans: write ----------------------------------------------------------------------------


def _visible_plans(viewer: User) -> QuerySet[WorkoutPlan]:
    return selectors.plan_list(viewer=viewer)


class PlanWriteSerializer(serializers.ModelSerializer):
    status = inline_choices(PlanStatus.choices, required=False)

    class Meta:
        model = WorkoutPlan
        fields = ("name", "description", "goal", "status")


class PlanCopySerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=_("Default: “<name> (copy)”.")
    )


class PlanAssignSerializer(serializers.Serializer):
    client = VisibleIdField(
        selector=lambda viewer: selectors.assignable_clients(viewer=viewer),
        help_text=_("A client the user may assign plans to (a trainer: their own clients)."),
    )
    start_date = dates.DateField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=(("up", _("Up")), ("down", _("Down"))))


class PhaseWriteSerializer(serializers.ModelSerializer):
    plan = VisibleRelatedField(selector=lambda viewer: _visible_plans(viewer))

    class Meta:
        model = PlanPhase
        fields = ("id", "plan", "order", "name", "notes")
        read_only_fields = ("id", "order")


class WeekWriteSerializer(serializers.ModelSerializer):
    phase = VisibleIdField(
        selector=lambda viewer: PlanPhase.objects.filter(plan__in=_visible_plans(viewer))
    )
    copy_from = VisibleIdField(
        selector=lambda viewer: PlanWeek.objects.filter(plan__in=_visible_plans(viewer)),
        required=False,
        allow_null=True,
        write_only=True,
        help_text=_("A week of the same plan whose days and items the new week copies."),
    )

    class Meta:
        model = PlanWeek
        fields = ("id", "phase", "number", "notes", "copy_from")
        read_only_fields = ("id", "number")


class DayWriteSerializer(serializers.ModelSerializer):
    week = VisibleIdField(
        selector=lambda viewer: PlanWeek.objects.filter(plan__in=_visible_plans(viewer))
    )

    class Meta:
        model = PlanDay
        fields = ("id", "week", "offset", "name", "notes")
        read_only_fields = ("id",)
        validators: list[Any] = []


class ItemWriteSerializer(serializers.ModelSerializer):
    day = VisibleIdField(
        selector=lambda viewer: PlanDay.objects.filter(week__plan__in=_visible_plans(viewer))
    )
    exercise = VisibleIdField(
        selector=lambda viewer: selectors.exercise_list(viewer=viewer, include_inactive=True)
    )
    kind = inline_choices(ItemKind.choices, required=False)
    load_unit = inline_choices(LoadUnit.choices, required=False, allow_blank=True)

    class Meta:
        model = PlanItem
        fields = ("id", "day", "order", *ITEM_FIELDS)
        read_only_fields = ("id", "order")
        validators: list[Any] = []


# --- Scheduled workouts ----------------------------------------------------------------------


class ScheduledWorkoutSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    week = serializers.IntegerField(source="day.week.number", read_only=True)
    day_name = serializers.CharField(source="day.__str__", read_only=True)
    status = inline_choices(ScheduledWorkoutStatus.choices, read_only=True)

    class Meta:
        model = ScheduledWorkout
        fields = (
            "id",
            "client",
            "plan",
            "plan_name",
            "day",
            "week",
            "day_name",
            "date",
            "status",
        )
        read_only_fields = fields


class ScheduledWorkoutQuerySerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, help_text=_("Client id."))
    plan = serializers.IntegerField(required=False, help_text=_("Plan id."))
    date_from = dates.DateField(required=False, help_text=_("On or after (YYYY-MM-DD)."))
    date_to = dates.DateField(required=False, help_text=_("On or before (YYYY-MM-DD)."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs.get("date_from"), attrs.get("date_to")
        if first and last and last < first:
            raise serializers.ValidationError(
                {"date_to": [_("The end of the range is before its start.")]}
            )
        return attrs
