"""Reads with rules for the exercise library and workout plans.

- exercises: owners, managers and trainers see every exercise (clients too, read-only: they
  read the instructions of what their plan holds); front desk none;
- plan templates: owners, managers and trainers;
- client plans and scheduled workouts: owners and managers all; a trainer those of the clients
  currently assigned to them; a client their own (never drafts); front desk none.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.crm.models import Assignment, Client
from apps.crm.selectors import client_list
from apps.training.models import (
    Exercise,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanStatus,
    PlanWeek,
    ScheduledWorkout,
    WorkoutPlan,
)
from apps.training.vocabulary import Category, Equipment, Mechanics, Muscle

PLAN_BUILDERS = (Role.OWNER, Role.MANAGER, Role.TRAINER)
EXERCISE_READERS = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.CLIENT)
EXERCISE_SOURCES = ("library", "gym")
EXERCISE_FILTER_PARAMS = ("search", "muscle", "equipment", "category", "mechanics", "source")


# --- Exercises -------------------------------------------------------------------------------


def exercise_list(
    *,
    viewer: User,
    search: str = "",
    muscle: str = "",
    equipment: str = "",
    category: str = "",
    mechanics: str = "",
    source: str = "",
    include_inactive: bool = False,
) -> QuerySet[Exercise]:
    """The exercises `viewer` may see, narrowed by the library's filters. `search` matches part
    of the name or of an alias, case-insensitively; `muscle` a primary or secondary muscle;
    `source` is "library" (shipped) or "gym" (the gym's own). A bad value raises
    ValidationError naming the parameter. Inactive exercises only for staff who ask."""
    if not has_role(viewer, *EXERCISE_READERS):
        return Exercise.objects.none()
    exercises = Exercise.objects.select_related("variation_of")
    if not (include_inactive and has_role(viewer, *PLAN_BUILDERS)):
        exercises = exercises.filter(is_active=True)
    errors: dict[str, list[str]] = {}

    def choice(name: str, value: str, allowed: Any) -> str:
        value = (value or "").strip()
        if value and value not in allowed:
            errors[name] = [_("Unknown value “%(value)s”.") % {"value": value}]
            return ""
        return value

    muscle = choice("muscle", muscle, Muscle.values)
    equipment = choice("equipment", equipment, Equipment.values)
    category = choice("category", category, Category.values)
    mechanics = choice("mechanics", mechanics, Mechanics.values)
    source = choice("source", source, EXERCISE_SOURCES)
    if errors:
        raise ValidationError(errors)
    term = " ".join((search or "").split()).lower()
    if term:
        # search_text is lower-cased: a plain LIKE uses the trigram index (icontains would not).
        exercises = exercises.filter(search_text__contains=term)
    if muscle:
        exercises = exercises.filter(
            Q(primary_muscles__contains=[muscle]) | Q(secondary_muscles__contains=[muscle])
        )
    if equipment:
        exercises = exercises.filter(equipment__contains=[equipment])
    if category:
        exercises = exercises.filter(category=category)
    if mechanics:
        exercises = exercises.filter(mechanics=mechanics)
    if source:
        exercises = exercises.filter(is_library=source == "library")
    return exercises


def exercise_get(*, viewer: User, pk: int) -> Exercise:
    """One exercise with its active variations, or Exercise.DoesNotExist."""
    variations = Exercise.objects.filter(is_active=True).order_by("name")
    return (
        exercise_list(viewer=viewer, include_inactive=True)
        .prefetch_related(Prefetch("variations", queryset=variations, to_attr="active_variations"))
        .get(pk=pk)
    )


def can_edit_exercise(*, viewer: User, exercise: Exercise) -> bool:
    """The shipped library is read-only (change it by making a variation); a gym's own
    exercise is edited by managers and owners, and by the trainer who made it."""
    if exercise.is_library:
        return False
    if is_management(viewer):
        return True
    return has_role(viewer, Role.TRAINER) and exercise.created_by_id == viewer.pk


def can_add_exercise(*, viewer: User) -> bool:
    return has_role(viewer, *PLAN_BUILDERS)


# --- Plans -----------------------------------------------------------------------------------


def _assigned_to(viewer: User, client_field: str) -> Exists:
    return Exists(
        Assignment.objects.filter(
            client=OuterRef(client_field), trainer__user=viewer, ends_on__isnull=True
        )
    )


def plan_list(
    *,
    viewer: User,
    is_template: bool | None = None,
    client: Client | int | None = None,
    status: str = "",
    search: str = "",
) -> QuerySet[WorkoutPlan]:
    """Plans the viewer may see: templates for plan builders, client plans by the rules in the
    module docstring."""
    plans = WorkoutPlan.objects.select_related("client", "created_by", "source")
    if is_management(viewer):
        pass
    elif has_role(viewer, Role.TRAINER):
        plans = plans.filter(Q(is_template=True) | Q(_assigned_to(viewer, "client")))
    elif has_role(viewer, Role.CLIENT):
        plans = plans.filter(is_template=False, client__user=viewer).exclude(
            status=PlanStatus.DRAFT
        )
    else:
        return plans.none()
    if is_template is not None:
        plans = plans.filter(is_template=is_template)
    if client is not None:
        plans = plans.filter(client=client)
    if status:
        if status not in PlanStatus.values:
            raise ValidationError({"status": [_("Unknown status.")]})
        plans = plans.filter(status=status)
    if search.strip():
        plans = plans.filter(name__icontains=search.strip())
    return plans


def with_structure(plans: QuerySet[WorkoutPlan]) -> QuerySet[WorkoutPlan]:
    """Prefetch a plan's phases, weeks, days and items (with exercises): four queries more,
    whatever the plan's size."""
    items = PlanItem.objects.select_related("exercise").order_by("order", "pk")
    days = PlanDay.objects.order_by("offset").prefetch_related(Prefetch("items", queryset=items))
    weeks = PlanWeek.objects.order_by("number").prefetch_related(Prefetch("days", queryset=days))
    phases = PlanPhase.objects.order_by("order").prefetch_related(Prefetch("weeks", queryset=weeks))
    return plans.prefetch_related(Prefetch("phases", queryset=phases))


def plan_get(*, viewer: User, pk: int) -> WorkoutPlan:
    """One plan the viewer may see with its whole structure, or WorkoutPlan.DoesNotExist."""
    return with_structure(plan_list(viewer=viewer)).get(pk=pk)


def can_edit_plan(*, viewer: User, plan: WorkoutPlan) -> bool:
    """Templates: managers and owners, and the trainer who made it (others copy it). A client's
    plan: managers and owners, and the client's current trainers."""
    if is_management(viewer):
        return True
    if not has_role(viewer, Role.TRAINER):
        return False
    if plan.is_template:
        return plan.created_by_id == viewer.pk
    return can_assign_to(viewer=viewer, client=plan.client)


def can_assign_to(*, viewer: User, client: Client) -> bool:
    """Managers and owners assign plans to anyone; a trainer to the clients assigned to them."""
    if is_management(viewer):
        return True
    if not has_role(viewer, Role.TRAINER):
        return False
    return client_list(viewer=viewer).filter(pk=client.pk).exists()


def assignable_clients(*, viewer: User) -> QuerySet[Client]:
    """The clients the viewer may assign a plan to."""
    if not has_role(viewer, *PLAN_BUILDERS):
        return Client.objects.none()
    return client_list(viewer=viewer).order_by("last_name", "first_name")


# --- Scheduled workouts ----------------------------------------------------------------------


def scheduled_workout_list(
    *,
    viewer: User,
    client: Client | int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    plan: WorkoutPlan | int | None = None,
) -> QuerySet[ScheduledWorkout]:
    """The scheduled workouts of the clients the viewer may see plans of, oldest first."""
    workouts = ScheduledWorkout.objects.select_related("client", "plan", "day__week")
    if is_management(viewer):
        pass
    elif has_role(viewer, Role.TRAINER):
        workouts = workouts.filter(_assigned_to(viewer, "client"))
    elif has_role(viewer, Role.CLIENT):
        workouts = workouts.filter(client__user=viewer).exclude(plan__status=PlanStatus.DRAFT)
    else:
        return workouts.none()
    if client is not None:
        workouts = workouts.filter(client=client)
    if plan is not None:
        workouts = workouts.filter(plan=plan)
    if date_from is not None:
        workouts = workouts.filter(date__gte=date_from)
    if date_to is not None:
        workouts = workouts.filter(date__lte=date_to)
    return workouts.order_by("date", "pk")
