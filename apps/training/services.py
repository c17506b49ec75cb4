"""Writes of the exercise library and workout plans. Every service checks the actor's right,
validates (a ValidationError names the field), writes its audit event in the same transaction.

Plan structure: phases in `order`; weeks numbered 1..n across the plan in phase order (they are
renumbered after every change, so week 1 of phase 2 follows the last week of phase 1); days
with an `offset` 0-6 in their week; items in `order` within a day. A client's plan keeps its
scheduled workouts in step with its structure (see `_reschedule`).

Start dates: a plan may start at most ASSIGN_PAST_DAYS days ago (a trainer entering on
Wednesday the plan the client began on Monday), and at most ASSIGN_FUTURE_DAYS ahead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model, ProtectedError
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import has_role
from apps.audit.services import audit_record, changes_between
from apps.core.constraints import as_field_error
from apps.core.services import check_fields_allowed, snapshot
from apps.crm.models import Client
from apps.tenants.selectors import gym_today
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

EXERCISE_FIELDS = (
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
    "variation_of",
    "is_active",
)
PLAN_FIELDS = ("name", "description", "goal", "status")
PHASE_FIELDS = ("name", "notes")
WEEK_FIELDS = ("notes",)
DAY_FIELDS = ("offset", "name", "notes")
ITEM_FIELDS = (
    "exercise",
    "kind",
    "superset",
    "sets",
    "reps_min",
    "reps_max",
    "load_value",
    "load_unit",
    "rest_seconds",
    "tempo",
    "duration_seconds",
    "distance_m",
    "pace_seconds_per_km",
    "heart_rate_zone",
    "notes",
)
MAX_PHASES = 12
MAX_WEEKS = 104
MAX_ITEMS_PER_DAY = 40
ASSIGN_PAST_DAYS = 7
ASSIGN_FUTURE_DAYS = 366
# Upper bounds of loads given relative to the lifter.
LOAD_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    LoadUnit.PERCENT_1RM: (Decimal(1), Decimal(150)),
    LoadUnit.RPE: (Decimal(1), Decimal(10)),
    LoadUnit.RIR: (Decimal(0), Decimal(10)),
}
SUPERSET = re.compile(r"^[A-Z]{1,2}$")
Direction = Literal["up", "down"]


# --- Exercises -------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    # Gym slugs carry a prefix the shipped library never uses, so a library update cannot clash.
    base = "gym-" + (slugify(name)[:100] or "exercise")
    slug, number = base, 2
    while Exercise.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def _check_exercise(exercise: Exercise) -> None:
    exercise.name = " ".join((exercise.name or "").split())
    exercise.aliases = sorted({" ".join(a.split()) for a in exercise.aliases or [] if a.strip()})
    errors: dict[str, list[str]] = {}
    if exercise.name:
        clash = Exercise.objects.filter(name__iexact=exercise.name).exclude(pk=exercise.pk)
        if clash.exists():
            errors["name"] = [_("An exercise with this name already exists.")]
    if not exercise.primary_muscles:
        errors["primary_muscles"] = [_("Name at least one primary muscle.")]
    parent = exercise.variation_of
    seen = {exercise.pk}
    while parent is not None:
        if parent.pk in seen:
            errors["variation_of"] = [_("An exercise cannot be a variation of itself.")]
            break
        seen.add(parent.pk)
        parent = parent.variation_of
    try:
        exercise.full_clean(exclude=["slug", "created_by", "variation_of", "search_text"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)


def _save_exercise(exercise: Exercise) -> None:
    try:
        with transaction.atomic():
            exercise.save()
    except IntegrityError as exc:
        field_error = as_field_error(exc)
        if field_error is None:
            raise
        raise field_error from exc


@transaction.atomic
def exercise_create(*, actor: User, **fields: Any) -> Exercise:
    """Add one of the gym's own exercises (a variation when `variation_of` is given)."""
    if not selectors.can_add_exercise(viewer=actor):
        raise PermissionDenied(_("Your role cannot add exercises."))
    check_fields_allowed(fields, EXERCISE_FIELDS)
    exercise = Exercise(**fields, is_library=False, created_by=actor)
    _check_exercise(exercise)
    exercise.slug = _unique_slug(exercise.name)
    _save_exercise(exercise)
    audit_record(
        action="exercise.created",
        actor=actor,
        obj=exercise,
        changes=changes_between({}, snapshot(exercise, fields)),
    )
    return exercise


@transaction.atomic
def exercise_variation_create(*, actor: User, of: Exercise, name: str, **fields: Any) -> Exercise:
    """A gym's own variation of `of` (library or own): its fields, changed by `fields`. This is
    how a gym "edits" a library exercise."""
    check_fields_allowed(fields, EXERCISE_FIELDS)
    inherited = {
        field: getattr(of, field)
        for field in EXERCISE_FIELDS
        if field not in ("name", "aliases", "variation_of", "is_active")
    }
    inherited.update(fields)
    inherited["variation_of"] = of
    return exercise_create(actor=actor, name=name, **inherited)


@transaction.atomic
def exercise_update(*, actor: User, exercise: Exercise, **fields: Any) -> Exercise:
    """Change one of the gym's own exercises; the library is read-only."""
    exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if exercise.is_library:
        raise PermissionDenied(
            _("Library exercises cannot be changed: create a variation of it instead.")
        )
    if not selectors.can_edit_exercise(viewer=actor, exercise=exercise):
        raise PermissionDenied(_("Only managers and the trainer who added it can change it."))
    check_fields_allowed(fields, EXERCISE_FIELDS)
    before = snapshot(exercise, fields)
    for field, value in fields.items():
        setattr(exercise, field, value)
    _check_exercise(exercise)
    _save_exercise(exercise)
    changes = changes_between(before, snapshot(exercise, fields))
    if changes:
        audit_record(action="exercise.updated", actor=actor, obj=exercise, changes=changes)
    return exercise


def exercise_deactivate(*, actor: User, exercise: Exercise) -> Exercise:
    """Hide an own exercise from pickers; plans and logs that use it keep it."""
    return exercise_update(actor=actor, exercise=exercise, is_active=False)


@transaction.atomic
def exercise_delete(*, actor: User, exercise: Exercise) -> None:
    """Delete an own exercise no plan or log uses (else deactivate it)."""
    if exercise.is_library:
        raise PermissionDenied(_("Library exercises cannot be deleted."))
    if not selectors.can_edit_exercise(viewer=actor, exercise=exercise):
        raise PermissionDenied(_("Only managers and the trainer who added it can delete it."))
    pk = exercise.pk
    try:
        with transaction.atomic():
            exercise.delete()
    except ProtectedError as exc:
        raise ValidationError(
            {"exercise": [_("Plans or logs use this exercise: deactivate it instead.")]}
        ) from exc
    audit_record(
        action="exercise.deleted",
        actor=actor,
        object_type="training.exercise",
        object_id=str(pk),
        changes={"name": {"before": exercise.name, "after": None}},
    )


# --- Plans: helpers --------------------------------------------------------------------------


def _require_edit(actor: User, plan: WorkoutPlan) -> None:
    # One structural change of a plan at a time: orders and week numbers are read, then
    # written (max + 1, resequencing), so two trainers editing at once would clash.
    WorkoutPlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk").first()
    if not selectors.can_edit_plan(viewer=actor, plan=plan):
        raise PermissionDenied(_("You cannot change this plan."))
    if plan.status == PlanStatus.ARCHIVED:
        raise ValidationError({"status": [_("This plan is archived: copy it to change it.")]})


def _structure_changed(actor: User, plan: WorkoutPlan, what: str) -> None:
    if not plan.is_template:
        _reschedule(plan)
    WorkoutPlan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())
    audit_record(
        action="plan.structure_changed",
        actor=actor,
        obj=plan,
        changes={"structure": {"before": None, "after": what}},
    )


def _resequence(model: type[Model], rows: list[Any], field: str) -> None:
    """Number `rows` 1..n in list order. Unique constraints are checked row by row, so every
    row first moves out of the way (n < 1000)."""
    if not rows:
        return
    model.objects.filter(pk__in=[row.pk for row in rows]).update(**{field: F(field) + 1000})
    for position, row in enumerate(rows, start=1):
        setattr(row, field, position)
    model.objects.bulk_update(rows, [field])


def _renumber_weeks(plan: WorkoutPlan) -> None:
    weeks = list(
        PlanWeek.objects.filter(plan=plan)
        .select_related("phase")
        .order_by("phase__order", "number")
    )
    if [week.number for week in weeks] != list(range(1, len(weeks) + 1)):
        _resequence(PlanWeek, weeks, "number")


def _move(model: type[Model], row: Any, siblings: list[Any], field: str, direction: str) -> None:
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("Move up or down.")]})
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == row.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    _resequence(model, siblings, field)


def day_date(start_date: date, week_number: int, offset: int) -> date:
    """The date of a plan day: start date + 7 * (week - 1) + offset."""
    return start_date + timedelta(days=7 * (week_number - 1) + offset)


def _reschedule(plan: WorkoutPlan) -> None:
    """Keep a client plan's calendar in step with its structure: days that are still to come
    get a scheduled workout, moved days move theirs (done or skipped ones stay as they were).
    Removed days took theirs with them (cascade)."""
    if plan.is_template or plan.start_date is None or plan.status != PlanStatus.ACTIVE:
        return
    today = gym_today()
    existing = {s.day_id: s for s in ScheduledWorkout.objects.filter(plan=plan)}
    to_create, to_update = [], []
    for day in PlanDay.objects.filter(week__plan=plan).select_related("week"):
        when = day_date(plan.start_date, day.week.number, day.offset)
        scheduled = existing.get(day.pk)
        if scheduled is None:
            if when >= today:
                to_create.append(
                    ScheduledWorkout(client_id=plan.client_id, plan=plan, day=day, date=when)
                )
        elif scheduled.status == ScheduledWorkoutStatus.SCHEDULED and scheduled.date != when:
            scheduled.date = when
            to_update.append(scheduled)
    ScheduledWorkout.objects.bulk_create(to_create)
    ScheduledWorkout.objects.bulk_update(to_update, ["date"])


# --- Plans -----------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: User,
    name: str,
    description: str = "",
    goal: str = "",
    status: str = PlanStatus.DRAFT,
) -> WorkoutPlan:
    """A new, empty plan template."""
    if not has_role(actor, *selectors.PLAN_BUILDERS):
        raise PermissionDenied(_("Your role cannot build plans."))
    plan = WorkoutPlan(
        name=name.strip(),
        description=description,
        goal=goal,
        status=status,
        is_template=True,
        created_by=actor,
    )
    plan.full_clean(exclude=["created_by", "client", "source"])
    plan.save()
    audit_record(
        action="plan.created",
        actor=actor,
        obj=plan,
        changes=changes_between({}, snapshot(plan, PLAN_FIELDS)),
    )
    return plan


@transaction.atomic
def plan_update(*, actor: User, plan: WorkoutPlan, **fields: Any) -> WorkoutPlan:
    """Change a plan's name, description, goal or status (archive with `plan_archive`)."""
    plan = WorkoutPlan.objects.select_for_update().get(pk=plan.pk)
    if not selectors.can_edit_plan(viewer=actor, plan=plan):
        raise PermissionDenied(_("You cannot change this plan."))
    check_fields_allowed(fields, PLAN_FIELDS)
    if fields.get("status") == PlanStatus.ARCHIVED:
        raise ValidationError({"status": [_("Archive a plan with its archive action.")]})
    if plan.status == PlanStatus.ARCHIVED and set(fields) - {"status"}:
        raise ValidationError({"status": [_("This plan is archived: copy it to change it.")]})
    before = snapshot(plan, fields)
    for field, value in fields.items():
        setattr(plan, field, value.strip() if field == "name" else value)
    plan.full_clean(exclude=["created_by", "client", "source"])
    plan.save()
    if plan.status == PlanStatus.ACTIVE:
        _reschedule(plan)
    changes = changes_between(before, snapshot(plan, fields))
    if changes:
        audit_record(action="plan.updated", actor=actor, obj=plan, changes=changes)
    return plan


@transaction.atomic
def plan_delete(*, actor: User, plan: WorkoutPlan) -> None:
    """Delete a template. A client's plan is archived instead (its past stays history)."""
    if not selectors.can_edit_plan(viewer=actor, plan=plan):
        raise PermissionDenied(_("You cannot delete this plan."))
    if not plan.is_template:
        raise ValidationError({"is_template": [_("A client's plan is archived, not deleted.")]})
    pk, name = plan.pk, plan.name
    plan.delete()
    audit_record(
        action="plan.deleted",
        actor=actor,
        object_type="training.workoutplan",
        object_id=str(pk),
        changes={"name": {"before": name, "after": None}},
    )


@transaction.atomic
def plan_archive(*, actor: User, plan: WorkoutPlan) -> WorkoutPlan:
    """Archive a plan. For a client's plan this is unassigning: its workouts still to come are
    removed from the calendar, the past ones (done, skipped or missed) stay."""
    plan = WorkoutPlan.objects.select_for_update().get(pk=plan.pk)
    if not selectors.can_edit_plan(viewer=actor, plan=plan):
        raise PermissionDenied(_("You cannot change this plan."))
    before = plan.status
    plan.status = PlanStatus.ARCHIVED
    plan.save(update_fields=["status", "updated_at"])
    removed = 0
    if not plan.is_template:
        removed, _by_model = ScheduledWorkout.objects.filter(
            plan=plan, date__gte=gym_today(), status=ScheduledWorkoutStatus.SCHEDULED
        ).delete()
    audit_record(
        action="plan.archived",
        actor=actor,
        obj=plan,
        changes={
            "status": {"before": before, "after": plan.status},
            "scheduled_removed": {"before": None, "after": removed},
        },
    )
    return plan


def plan_unassign(*, actor: User, plan: WorkoutPlan) -> WorkoutPlan:
    """Take a plan away from its client: `plan_archive`."""
    return plan_archive(actor=actor, plan=plan)


def _copy_structure(source: WorkoutPlan, target: WorkoutPlan) -> list[PlanDay]:
    """Copy phases, weeks, days and items of `source` into `target` in eight queries (four
    reads, four bulk inserts), whatever the plan's size. Returns the new days."""
    phases = list(PlanPhase.objects.filter(plan=source).order_by("order"))
    weeks = list(PlanWeek.objects.filter(plan=source).order_by("number"))
    days = list(PlanDay.objects.filter(week__plan=source).order_by("week_id", "offset"))
    items = list(PlanItem.objects.filter(day__week__plan=source).order_by("day_id", "order"))

    new_phases = {
        phase.pk: PlanPhase(plan=target, order=phase.order, name=phase.name, notes=phase.notes)
        for phase in phases
    }
    PlanPhase.objects.bulk_create(new_phases.values())
    new_weeks = {
        week.pk: PlanWeek(
            plan=target, phase=new_phases[week.phase_id], number=week.number, notes=week.notes
        )
        for week in weeks
    }
    PlanWeek.objects.bulk_create(new_weeks.values())
    new_days = {
        day.pk: PlanDay(
            week=new_weeks[day.week_id], offset=day.offset, name=day.name, notes=day.notes
        )
        for day in days
    }
    PlanDay.objects.bulk_create(new_days.values())
    copied = []
    for item in items:
        item.pk = None
        item.id = None
        item.day = new_days[item.day_id]
        copied.append(item)
    PlanItem.objects.bulk_create(copied)
    return list(new_days.values())


@transaction.atomic
def plan_copy(*, actor: User, plan: WorkoutPlan, name: str = "") -> WorkoutPlan:
    """A deep, independent copy of any plan the actor may see, as a new draft template."""
    if not has_role(actor, *selectors.PLAN_BUILDERS):
        raise PermissionDenied(_("Your role cannot build plans."))
    if not selectors.plan_list(viewer=actor).filter(pk=plan.pk).exists():
        raise PermissionDenied(_("You cannot copy this plan."))
    copy = WorkoutPlan(
        name=(name or "").strip() or _("%(name)s (copy)") % {"name": plan.name},
        description=plan.description,
        goal=plan.goal,
        is_template=True,
        source=plan,
        status=PlanStatus.DRAFT,
        created_by=actor,
    )
    copy.full_clean(exclude=["created_by", "client", "source"])
    copy.save()
    _copy_structure(plan, copy)
    audit_record(
        action="plan.copied",
        actor=actor,
        obj=copy,
        changes={"source": {"before": None, "after": plan.pk}},
    )
    return copy


@transaction.atomic
def plan_assign(
    *,
    template: WorkoutPlan,
    client: Client,
    start_date: date,
    by: User,
    name: str = "",
) -> WorkoutPlan:
    """Give `client` their own copy of `template` from `start_date` (status active, `source`
    the template) and schedule one workout per plan day, dated start date + 7 * (week - 1) +
    day offset. Managers and owners assign to anyone, trainers to their assigned clients."""
    if not has_role(by, *selectors.PLAN_BUILDERS):
        raise PermissionDenied(_("Your role cannot assign plans."))
    if not selectors.plan_list(viewer=by).filter(pk=template.pk).exists():
        raise PermissionDenied(_("You cannot use this plan."))
    if not selectors.can_assign_to(viewer=by, client=client):
        raise PermissionDenied(_("You can only assign plans to clients assigned to you."))
    errors: dict[str, list[str]] = {}
    if not template.is_template:
        errors["template"] = [_("Assign a template; copy a client's plan to make one.")]
    elif template.status == PlanStatus.ARCHIVED:
        errors["template"] = [_("This template is archived.")]
    elif not PlanDay.objects.filter(week__plan=template).exists():
        errors["template"] = [_("This plan has no training days yet.")]
    today = gym_today()
    if start_date < today - timedelta(days=ASSIGN_PAST_DAYS):
        errors["start_date"] = [
            _("A plan can start at most %(days)s days ago.") % {"days": ASSIGN_PAST_DAYS}
        ]
    elif start_date > today + timedelta(days=ASSIGN_FUTURE_DAYS):
        errors["start_date"] = [_("A plan can start at most a year from now.")]
    if errors:
        raise ValidationError(errors)
    plan = WorkoutPlan(
        name=(name or "").strip() or template.name,
        description=template.description,
        goal=template.goal,
        is_template=False,
        client=client,
        source=template,
        start_date=start_date,
        status=PlanStatus.ACTIVE,
        created_by=by,
    )
    plan.full_clean(exclude=["created_by", "client", "source"])
    plan.save()
    days = _copy_structure(template, plan)
    weeks = {week.pk: week.number for week in PlanWeek.objects.filter(plan=plan)}
    ScheduledWorkout.objects.bulk_create(
        ScheduledWorkout(
            client=client,
            plan=plan,
            day=day,
            date=day_date(start_date, weeks[day.week_id], day.offset),
        )
        for day in days
    )
    audit_record(
        action="plan.assigned",
        actor=by,
        obj=plan,
        changes={
            "client": {"before": None, "after": client.pk},
            "source": {"before": None, "after": template.pk},
            "start_date": {"before": None, "after": start_date.isoformat()},
        },
    )
    _notify_plan_assigned(plan=plan, client=client, by=by)
    return plan


def _notify_plan_assigned(*, plan: WorkoutPlan, client: Client, by: User) -> None:
    """Tell the client about their new plan (recorded now, sent once the assignment commits)."""
    from django.urls import reverse

    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify

    notify(
        kind="plan_assigned",
        recipient=client,
        context={"plan": plan.name, "trainer_name": by.get_full_name() or by.email},
        event_key=f"plan_assigned:{plan.pk}",
        url=reverse("portal:workouts"),
        channels=client_channels(client),
        actor=by,
    )


# --- Phases ----------------------------------------------------------------------------------


@transaction.atomic
def phase_add(*, actor: User, plan: WorkoutPlan, name: str, notes: str = "") -> PlanPhase:
    """Append a phase to the plan."""
    _require_edit(actor, plan)
    count = PlanPhase.objects.filter(plan=plan).count()
    if count >= MAX_PHASES:
        raise ValidationError({"plan": [_("A plan has at most %(n)s phases.") % {"n": MAX_PHASES}]})
    last = PlanPhase.objects.filter(plan=plan).aggregate(last=Max("order"))["last"] or 0
    phase = PlanPhase(plan=plan, order=last + 1, name=(name or "").strip(), notes=notes)
    phase.full_clean(exclude=["plan"])
    phase.save()
    _structure_changed(actor, plan, f"phase {phase.pk} added")
    return phase


@transaction.atomic
def phase_update(*, actor: User, phase: PlanPhase, **fields: Any) -> PlanPhase:
    _require_edit(actor, phase.plan)
    check_fields_allowed(fields, PHASE_FIELDS)
    for field, value in fields.items():
        setattr(phase, field, value)
    phase.full_clean(exclude=["plan"])
    phase.save()
    _structure_changed(actor, phase.plan, f"phase {phase.pk} changed")
    return phase


@transaction.atomic
def phase_remove(*, actor: User, phase: PlanPhase) -> None:
    """Remove a phase with its weeks, days and items."""
    plan = phase.plan
    _require_edit(actor, plan)
    pk = phase.pk
    phase.delete()
    _resequence(PlanPhase, list(PlanPhase.objects.filter(plan=plan).order_by("order")), "order")
    _renumber_weeks(plan)
    _structure_changed(actor, plan, f"phase {pk} removed")


@transaction.atomic
def phase_move(*, actor: User, phase: PlanPhase, direction: Direction) -> PlanPhase:
    """Move a phase one place up or down; its weeks move with it."""
    plan = phase.plan
    _require_edit(actor, plan)
    siblings = list(PlanPhase.objects.filter(plan=plan).order_by("order"))
    _move(PlanPhase, phase, siblings, "order", direction)
    _renumber_weeks(plan)
    _structure_changed(actor, plan, f"phase {phase.pk} moved {direction}")
    phase.refresh_from_db()
    return phase


# --- Weeks -----------------------------------------------------------------------------------


@transaction.atomic
def week_add(
    *,
    actor: User,
    phase: PlanPhase,
    notes: str = "",
    copy_from: PlanWeek | None = None,
) -> PlanWeek:
    """Add a week at the end of `phase` (weeks after it are renumbered). With `copy_from`, the
    new week gets that week's days and items."""
    plan = phase.plan
    _require_edit(actor, plan)
    if copy_from is not None and copy_from.plan_id != plan.pk:
        raise ValidationError({"copy_from": [_("Copy a week of the same plan.")]})
    count = PlanWeek.objects.filter(plan=plan).count()
    if count >= MAX_WEEKS:
        raise ValidationError({"phase": [_("A plan has at most %(n)s weeks.") % {"n": MAX_WEEKS}]})
    week = PlanWeek.objects.create(plan=plan, phase=phase, number=count + 500, notes=notes)
    _renumber_weeks(plan)
    week.refresh_from_db()
    if copy_from is not None:
        days = list(copy_from.days.all())
        new_days = PlanDay.objects.bulk_create(
            PlanDay(week=week, offset=d.offset, name=d.name, notes=d.notes) for d in days
        )
        by_old = {old.pk: new for old, new in zip(days, new_days, strict=True)}
        items = list(PlanItem.objects.filter(day__in=days))
        for item in items:
            item.pk = item.id = None
            item.day = by_old[item.day_id]
        PlanItem.objects.bulk_create(items)
    _structure_changed(actor, plan, f"week {week.pk} added")
    return week


@transaction.atomic
def week_update(*, actor: User, week: PlanWeek, **fields: Any) -> PlanWeek:
    _require_edit(actor, week.plan)
    check_fields_allowed(fields, WEEK_FIELDS)
    for field, value in fields.items():
        setattr(week, field, value)
    week.save()
    _structure_changed(actor, week.plan, f"week {week.pk} changed")
    return week


@transaction.atomic
def week_remove(*, actor: User, week: PlanWeek) -> None:
    """Remove a week with its days; the weeks after it move up."""
    plan = week.plan
    _require_edit(actor, plan)
    pk = week.pk
    week.delete()
    _renumber_weeks(plan)
    _structure_changed(actor, plan, f"week {pk} removed")


# --- Days ------------------------------------------------------------------------------------


def _check_offset(week: PlanWeek, offset: Any, *, exclude_pk: int | None = None) -> int:
    if not isinstance(offset, int) or not 0 <= offset <= 6:
        raise ValidationError(
            {"offset": [_("Choose a day from 0 (first) to 6 (last) of the week.")]}
        )
    clash = PlanDay.objects.filter(week=week, offset=offset).exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"offset": [_("This week already has a workout on that day.")]})
    return offset


@transaction.atomic
def day_add(
    *,
    actor: User,
    week: PlanWeek,
    offset: int,
    name: str = "",
    notes: str = "",
) -> PlanDay:
    """Add a training day `offset` days (0-6) after the start of the week."""
    _require_edit(actor, week.plan)
    day = PlanDay(week=week, offset=_check_offset(week, offset), name=name.strip(), notes=notes)
    day.full_clean(exclude=["week"])
    day.save()
    _structure_changed(actor, week.plan, f"day {day.pk} added")
    return day


@transaction.atomic
def day_update(*, actor: User, day: PlanDay, **fields: Any) -> PlanDay:
    plan = day.week.plan
    _require_edit(actor, plan)
    check_fields_allowed(fields, DAY_FIELDS)
    if "offset" in fields:
        _check_offset(day.week, fields["offset"], exclude_pk=day.pk)
    for field, value in fields.items():
        setattr(day, field, value)
    day.full_clean(exclude=["week"])
    day.save()
    _structure_changed(actor, plan, f"day {day.pk} changed")
    return day


@transaction.atomic
def day_remove(*, actor: User, day: PlanDay) -> None:
    """Remove a day with its items (and, for a client, its scheduled workout)."""
    plan = day.week.plan
    _require_edit(actor, plan)
    pk = day.pk
    day.delete()
    _structure_changed(actor, plan, f"day {pk} removed")


# --- Items -----------------------------------------------------------------------------------


def _check_item(item: PlanItem, *, new_exercise: bool) -> None:
    """The prescription makes sense; every error names its field."""
    errors: dict[str, list[str]] = {}
    if new_exercise and item.exercise_id and not item.exercise.is_active:
        errors["exercise"] = [_("This exercise is no longer in use.")]
    item.superset = (item.superset or "").strip().upper()
    if item.superset and not SUPERSET.match(item.superset):
        errors["superset"] = [_("Use a letter (A, B...) for items done back to back.")]
    if item.reps_min is None and item.reps_max is not None:
        item.reps_min = item.reps_max
    if item.reps_min is not None and item.reps_max is not None and item.reps_min > item.reps_max:
        errors["reps_max"] = [_("The top of the rep range is below its bottom.")]
    if item.reps_min is not None and item.reps_min < 1:
        errors["reps_min"] = [_("Prescribe at least one rep.")]
    if item.load_value is not None and not item.load_unit:
        errors["load_unit"] = [_("Say what the load is in (kg, lb, % of 1RM, RPE, RIR).")]
    if item.load_value is not None and item.load_value < 0:
        errors["load_value"] = [_("A load cannot be negative.")]
    limits = LOAD_LIMITS.get(item.load_unit)
    if limits and item.load_value is not None and not limits[0] <= item.load_value <= limits[1]:
        errors["load_value"] = [
            _("Give a value from %(low)s to %(high)s.") % {"low": limits[0], "high": limits[1]}
        ]
    if item.load_unit in (LoadUnit.PERCENT_1RM, LoadUnit.RPE, LoadUnit.RIR) and (
        item.load_value is None
    ):
        errors["load_value"] = [_("Give the value of this load.")]
    if item.heart_rate_zone is not None and not 1 <= item.heart_rate_zone <= 5:
        errors["heart_rate_zone"] = [_("Heart-rate zones go from 1 to 5.")]
    if item.kind == ItemKind.STRENGTH:
        if not item.sets:
            errors["sets"] = [_("Prescribe at least one set.")]
    elif item.kind == ItemKind.CARDIO and not (item.duration_seconds or item.distance_m):
        errors["duration_seconds"] = [_("Give a time or a distance.")]
    if errors:
        raise ValidationError(errors)
    item.full_clean(exclude=["day", "exercise", "order"], validate_constraints=False)


@transaction.atomic
def item_add(*, actor: User, day: PlanDay, exercise: Exercise, **fields: Any) -> PlanItem:
    """Append an exercise to a training day with its prescription (ITEM_FIELDS)."""
    _require_edit(actor, day.week.plan)
    check_fields_allowed(fields, ITEM_FIELDS)
    fields.pop("exercise", None)
    count = PlanItem.objects.filter(day=day).count()
    if count >= MAX_ITEMS_PER_DAY:
        raise ValidationError(
            {"day": [_("A day has at most %(n)s exercises.") % {"n": MAX_ITEMS_PER_DAY}]}
        )
    last = PlanItem.objects.filter(day=day).aggregate(last=Max("order"))["last"] or 0
    item = PlanItem(day=day, exercise=exercise, order=last + 1, **fields)
    if "kind" not in fields and exercise.category == "cardio":
        item.kind = ItemKind.CARDIO
    _check_item(item, new_exercise=True)
    item.save()
    _structure_changed(actor, day.week.plan, f"item {item.pk} added")
    return item


@transaction.atomic
def item_update(*, actor: User, item: PlanItem, **fields: Any) -> PlanItem:
    plan = item.day.week.plan
    _require_edit(actor, plan)
    check_fields_allowed(fields, ITEM_FIELDS)
    new_exercise = "exercise" in fields and fields["exercise"].pk != item.exercise_id
    for field, value in fields.items():
        setattr(item, field, value)
    _check_item(item, new_exercise=new_exercise)
    item.save()
    _structure_changed(actor, plan, f"item {item.pk} changed")
    return item


@transaction.atomic
def item_remove(*, actor: User, item: PlanItem) -> None:
    day = item.day
    plan = day.week.plan
    _require_edit(actor, plan)
    pk = item.pk
    item.delete()
    _resequence(PlanItem, list(PlanItem.objects.filter(day=day).order_by("order")), "order")
    _structure_changed(actor, plan, f"item {pk} removed")


@transaction.atomic
def item_move(*, actor: User, item: PlanItem, direction: Direction) -> PlanItem:
    """Move an item one place up or down within its day."""
    plan = item.day.week.plan
    _require_edit(actor, plan)
    siblings = list(PlanItem.objects.filter(day_id=item.day_id).order_by("order"))
    _move(PlanItem, item, siblings, "order", direction)
    _structure_changed(actor, plan, f"item {item.pk} moved {direction}")
    item.refresh_from_db()
    return item


# --- Scheduled workouts ----------------------------------------------------------------------


@transaction.atomic
def scheduled_workout_status_set(
    *, actor: User, workout: ScheduledWorkout, status: str
) -> ScheduledWorkout:
    """Mark a scheduled workout done, skipped or scheduled again: the client themselves, their
    current trainers, managers and owners (apps.workouts marks it done when a log is saved)."""
    if status not in ScheduledWorkoutStatus.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    visible = selectors.scheduled_workout_list(viewer=actor).filter(pk=workout.pk)
    if not visible.exists():
        raise PermissionDenied(_("You cannot change this workout."))
    workout = ScheduledWorkout.objects.select_for_update().get(pk=workout.pk)
    before = workout.status
    if before != status:
        workout.status = status
        workout.save(update_fields=["status", "updated_at"])
        audit_record(
            action="scheduled_workout.status_set",
            actor=actor,
            obj=workout,
            changes={"status": {"before": before, "after": status}},
        )
    return workout
