"""Writes of automations: rules (create, edit, switch on and off, ready-made ones), recording
trigger occurrences as runs, running due steps, and the staff to-do list.

How a rule runs: an occurrence of its trigger (recorded by the owning app through
`record_trigger`, or found by `time_triggers_scan`) becomes a Run, unique per (rule,
occurrence key), so each occurrence runs once per rule however often it is recorded or scanned.
The run's first step is due after its delay; `due_steps_run` (Celery beat, every minute, and
once right after a run is made) takes due runs one at a time under a row lock, does the step and
moves the run on in the same transaction: each step happens once, and a worker that dies
mid-step leaves the run as it was, to be taken again. Messages go through
apps.notifications.services.notify with an event key per run and step, which delivers once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record, changes_between
from apps.automations.conditions import clients_matching, conditions_clean
from apps.automations.models import Action, Rule, Run, RunStatus, StaffTask, Trigger
from apps.automations.steps import LEAD_TRIGGERS, TEXT_PLACEHOLDERS, steps_clean
from apps.core.services import model_save
from apps.crm.models import Assignment, Client, ClientStatus, Lead, LeadStatus
from apps.tenants.selectors import current_gym, gym_today, gym_url, gym_zone

logger = logging.getLogger(__name__)

# Triggers a periodic scan finds (time is the trigger); the others are recorded by their app.
SCANNED_TRIGGERS = (
    Trigger.TRIAL_ENDING,
    Trigger.NO_VISIT,
    Trigger.ADHERENCE_DROPPING,
    Trigger.BIRTHDAY,
    Trigger.RESTING_HEART_RATE_UP,
    Trigger.NO_ACTIVITY,
)
# Triggers that need a number (days or a count) and its bounds.
THRESHOLD_TRIGGERS = {
    Trigger.TRIAL_ENDING: (0, 60),
    Trigger.NO_VISIT: (1, 365),
    Trigger.CLASS_ATTENDED: (1, 1000),
    # Beats per minute above the client's usual resting heart rate.
    Trigger.RESTING_HEART_RATE_UP: (3, 40),
}
# A scan that did not run for a while (an outage) still finds moments this many days back;
# older ones are let go rather than sent late.
SCAN_CATCH_UP_DAYS = 3
DUE_BATCH = 200
# Steps may run inside a request to the public host (a webhook's trigger with eager tasks):
# links are always the gym's.
GYM_URLCONF = settings.ROOT_URLCONF
# A lead's enquiry is answered by a rule's messages for this long (transactional: they asked);
# after it, writing to them would be marketing without their consent.
LEAD_CONTACT_DAYS = 30


def _require_management(actor: User) -> None:
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers manage automations."))


# --- Rules ----------------------------------------------------------------------------------


def _rule_clean(
    *, trigger: str, threshold: int | None, conditions: dict[str, Any], steps: list[dict[str, Any]]
) -> tuple[int | None, dict[str, Any], list[dict[str, Any]]]:
    errors: dict[str, list[str]] = {}
    if trigger not in Trigger.values:
        raise ValidationError({"trigger": [_("Choose a trigger.")]})
    if trigger in THRESHOLD_TRIGGERS:
        low, high = THRESHOLD_TRIGGERS[trigger]
        if threshold is None or not low <= threshold <= high:
            errors["threshold"] = [
                _("Give a number from %(low)d to %(high)d.") % {"low": low, "high": high}
            ]
    else:
        threshold = None
    try:
        conditions = conditions_clean(conditions)
    except ValidationError as error:
        errors.update(error.message_dict)
    if trigger in LEAD_TRIGGERS and conditions:
        errors["conditions"] = [_("Conditions are about clients: a rule about new leads has none.")]
    try:
        steps = steps_clean(steps, trigger=trigger)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return threshold, conditions, steps


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    trigger: str,
    steps: list[dict[str, Any]],
    threshold: int | None = None,
    conditions: dict[str, Any] | None = None,
    enabled: bool = False,
    preset: str = "",
) -> Rule:
    """A new rule, off unless `enabled`."""
    _require_management(actor)
    threshold, conditions, steps = _rule_clean(
        trigger=trigger, threshold=threshold, conditions=conditions or {}, steps=steps
    )
    rule = Rule(
        name=name.strip(),
        trigger=trigger,
        threshold=threshold,
        conditions=conditions,
        steps=steps,
        enabled=enabled,
        enabled_at=timezone.now() if enabled else None,
        preset=preset,
    )
    model_save(rule)
    audit_record(
        action="automation_rule.created",
        actor=actor,
        obj=rule,
        changes={
            "name": {"before": None, "after": rule.name},
            "trigger": {"before": None, "after": trigger},
        },
    )
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User,
    rule: Rule,
    name: str,
    trigger: str,
    steps: list[dict[str, Any]],
    threshold: int | None = None,
    conditions: dict[str, Any] | None = None,
) -> Rule:
    """Change a rule. Runs already waiting go on with the steps as they are when each is due."""
    _require_management(actor)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    threshold, conditions, steps = _rule_clean(
        trigger=trigger, threshold=threshold, conditions=conditions or {}, steps=steps
    )
    fields = ("name", "trigger", "threshold", "conditions", "steps")
    before = {field: getattr(rule, field) for field in fields}
    rule.name, rule.trigger, rule.threshold = name.strip(), trigger, threshold
    rule.conditions, rule.steps = conditions, steps
    model_save(rule)
    changes = changes_between(before, {field: getattr(rule, field) for field in fields})
    if changes:
        audit_record(action="automation_rule.updated", actor=actor, obj=rule, changes=changes)
    return rule


@transaction.atomic
def rule_set_enabled(*, actor: User, rule: Rule, enabled: bool) -> Rule:
    """Switch a rule on or off. Off stops its waiting runs too: a paused rule does nothing
    more, and switching it on again starts from new occurrences only."""
    _require_management(actor)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.enabled == enabled:
        return rule
    rule.enabled = enabled
    if enabled:
        rule.enabled_at = timezone.now()
    rule.save(update_fields=["enabled", "enabled_at", "updated_at"])
    if not enabled:
        Run.objects.filter(rule=rule, status=RunStatus.WAITING).update(
            status=RunStatus.STOPPED, due_at=None
        )
    audit_record(
        action="automation_rule.switched_on" if enabled else "automation_rule.paused",
        actor=actor,
        obj=rule,
        changes={"enabled": {"before": not enabled, "after": enabled}},
    )
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: Rule) -> None:
    """Delete a rule with its run log (tasks it made stay)."""
    _require_management(actor)
    audit_record(
        action="automation_rule.deleted",
        actor=actor,
        obj=rule,
        changes={"name": {"before": rule.name, "after": None}},
    )
    rule.delete()


@transaction.atomic
def rule_create_from_preset(*, actor: User, key: str) -> Rule:
    """A ready-made rule (apps.automations.presets), created off with its texts in the
    current language, for the gym to read and switch on."""
    from apps.automations.presets import preset_get

    preset = preset_get(key)
    if preset is None:
        raise ValidationError({"preset": [_("Unknown ready-made rule.")]})
    return rule_create(
        actor=actor,
        name=str(preset.name),
        trigger=preset.trigger,
        threshold=preset.threshold,
        conditions=dict(preset.conditions),
        steps=preset.steps(),
        preset=preset.key,
    )


# --- Occurrences ------------------------------------------------------------------------------


# Set inside `triggers_paused()`: what happens there starts no automation.
_triggers_paused: ContextVar[bool] = ContextVar("automation_triggers_paused", default=False)


@contextmanager
def triggers_paused() -> Iterator[None]:
    """Record no trigger inside the block: a CSV import brings in members the gym already has,
    who must not all get the welcome series."""
    token = _triggers_paused.set(True)
    try:
        yield
    finally:
        _triggers_paused.reset(token)


def record_trigger(
    event: str,
    *,
    client: Client | None = None,
    lead: Lead | None = None,
    key: str = "",
    client_id: int | None = None,
) -> None:
    """Record that `event` happened (one of Trigger's values, or "checked_in"). Call it inside
    the writing service's transaction: it acts after the commit (nothing if rolled back), and
    a failure here never breaks the write that caused it.

    `key` names the occurrence ("lead:12", "membership:3:2026-12-01"): the same key again
    starts no second run of any rule."""
    if _triggers_paused.get():
        return
    # After commit the connection may be in another schema (a webhook handled inside
    # tenant_context commits outside it): the callback goes back to this gym's.
    tenant = connection.tenant
    client_id = client.pk if client is not None else client_id
    lead_id = lead.pk if lead is not None else None

    def after_commit() -> None:
        with tenant_context(tenant):
            started = occurrences_record(event, client_id=client_id, lead_id=lead_id, key=key)
            if started:
                _dispatch_due_steps()

    transaction.on_commit(after_commit, robust=True)


def _visits(client_id: int) -> int:
    from apps.scheduling.models import Appointment, ClassBooking

    return (
        ClassBooking.objects.filter(client_id=client_id, checked_in_at__isnull=False).count()
        + Appointment.objects.filter(client_id=client_id, checked_in_at__isnull=False).count()
    )


def _class_visits(client_id: int) -> int:
    from apps.scheduling.models import ClassBooking, ClassBookingStatus

    return ClassBooking.objects.filter(
        client_id=client_id, status=ClassBookingStatus.ATTENDED
    ).count()


@transaction.atomic
def occurrences_record(
    event: str, *, client_id: int | None = None, lead_id: int | None = None, key: str = ""
) -> int:
    """Start a run of every enabled rule `event` triggers whose conditions the client meets.
    Returns how many runs started (0 when each already ran for this occurrence)."""
    if event == "checked_in":
        # A visit: the first one ever, and the Nth class, are triggers of their own.
        rules = list(
            Rule.objects.filter(
                enabled=True, trigger__in=(Trigger.FIRST_VISIT, Trigger.CLASS_ATTENDED)
            )
        )
        if not rules or client_id is None:
            return 0
        started = 0
        if any(r.trigger == Trigger.FIRST_VISIT for r in rules) and _visits(client_id) == 1:
            started += _runs_start(
                [r for r in rules if r.trigger == Trigger.FIRST_VISIT],
                [(f"first_visit:{client_id}", client_id, None)],
            )
        counted = [r for r in rules if r.trigger == Trigger.CLASS_ATTENDED]
        if counted:
            count = _class_visits(client_id)
            started += _runs_start(
                [r for r in counted if r.threshold == count],
                [(f"class_attended:{count}:{client_id}", client_id, None)],
            )
        return started
    rules = list(Rule.objects.filter(enabled=True, trigger=event))
    if not rules:
        return 0
    return _runs_start(rules, [(key, client_id, lead_id)])


def _runs_start(rules: list[Rule], occurrences: list[tuple[str, int | None, int | None]]) -> int:
    """A run per rule and occurrence (key, client id, lead id) that meets the rule's conditions
    and has none yet. One query per rule to check conditions, one insert per rule."""
    now = timezone.now()
    started = 0
    for rule in rules:
        if not rule.steps or not occurrences:
            continue
        matching = occurrences
        client_ids = {client_id for _, client_id, _ in occurrences if client_id is not None}
        if client_ids:
            allowed = set(
                clients_matching(
                    rule.conditions, Client.objects.filter(pk__in=client_ids)
                ).values_list("pk", flat=True)
            )
            matching = [o for o in occurrences if o[1] is None or o[1] in allowed]
        first_delay = timedelta(minutes=int(rule.steps[0].get("delay_minutes") or 0))
        runs = [
            Run(
                rule=rule,
                occurrence_key=key[:120],
                client_id=client_id,
                lead_id=lead_id,
                due_at=now + first_delay,
            )
            for key, client_id, lead_id in matching
        ]
        existing = set(
            Run.objects.filter(
                rule=rule, occurrence_key__in=[run.occurrence_key for run in runs]
            ).values_list("occurrence_key", flat=True)
        )
        runs = [run for run in runs if run.occurrence_key not in existing]
        # The unique (rule, occurrence key) makes a repeat a no-op, also against a concurrent
        # scan or a second delivery of the same event.
        Run.objects.bulk_create(runs, ignore_conflicts=True)
        started += len(runs)
    return started


def _dispatch_due_steps() -> None:
    """Do the new runs' first steps now rather than at the next beat, after commit and in this
    gym's schema (the task runs in the schema it is sent from)."""
    from apps.automations.tasks import run_due_steps

    tenant = connection.tenant

    def send() -> None:
        with tenant_context(tenant):
            run_due_steps.delay()

    transaction.on_commit(send)


# --- Time-based triggers ----------------------------------------------------------------------


def _window_start(rule: Rule, today: date) -> date:
    """The first day whose moments a scan still acts on: never before the rule was switched
    on, never more than SCAN_CATCH_UP_DAYS back."""
    since = today - timedelta(days=SCAN_CATCH_UP_DAYS)
    if rule.enabled_at is not None:
        since = max(since, rule.enabled_at.astimezone(gym_zone()).date())
    return since


def _scan_trial_ending(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    from apps.billing.models import Membership, MembershipStatus

    days = rule.threshold or 0
    since = _window_start(rule, today)
    # The moment is `days` before the trial's last day; the trial must not be over yet.
    rows = Membership.objects.filter(
        status=MembershipStatus.TRIALING,
        current_period_end__gte=max(today, since + timedelta(days=days)),
        current_period_end__lte=today + timedelta(days=days),
    ).values_list("pk", "client_id", "current_period_end")
    return [
        (f"trial_ending:{pk}:{end.isoformat()}", client_id, None) for pk, client_id, end in rows
    ]


def _scan_no_visit(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    from apps.scheduling.models import Appointment, ClassBooking

    days = rule.threshold or 1
    zone = gym_zone()
    first_day = _window_start(rule, today) - timedelta(days=days)
    last_day = today - timedelta(days=days)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)

    def latest(model: Any) -> Subquery:
        return Subquery(
            model.objects.filter(client=OuterRef("pk"), checked_in_at__isnull=False)
            .order_by("-checked_in_at")
            .values("checked_in_at")[:1],
            output_field=DateTimeField(),
        )

    # GREATEST ignores NULLs in PostgreSQL: the later of the last class and the last session.
    rows = (
        clients_matching(rule.conditions)
        .annotate(last_visit=Greatest(latest(ClassBooking), latest(Appointment)))
        .filter(last_visit__gte=start, last_visit__lt=end)
        .values_list("pk", "last_visit")
    )
    return [
        (f"no_visit:{days}:{pk}:{last.astimezone(zone).date().isoformat()}", pk, None)
        for pk, last in rows
    ]


def _scan_adherence(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    """Clients whose 30-day adherence dropped 20 points below their 90-day adherence (the
    definition in apps.workouts.metrics), at most once a month per client while it lasts."""
    from apps.training.models import ScheduledWorkout, ScheduledWorkoutStatus
    from apps.workouts import metrics

    since_30, since_90 = today - timedelta(days=29), today - timedelta(days=89)
    completed = Q(status=ScheduledWorkoutStatus.COMPLETED)
    counts = (
        ScheduledWorkout.objects.filter(
            client__in=clients_matching(rule.conditions).values("pk"),
            date__gte=since_90,
            date__lte=today,
        )
        .values("client_id")
        .annotate(
            scheduled_90=Count("pk"),
            completed_90=Count("pk", filter=completed),
            scheduled_30=Count("pk", filter=Q(date__gte=since_30)),
            completed_30=Count("pk", filter=completed & Q(date__gte=since_30)),
        )
    )
    found = []
    for row in counts:
        recent = metrics.adherence(completed=row["completed_30"], scheduled=row["scheduled_30"])
        longer = metrics.adherence(completed=row["completed_90"], scheduled=row["scheduled_90"])
        if metrics.needs_attention(recent, longer):
            key = f"adherence_dropping:{row['client_id']}:{today:%Y-%m}"
            found.append((key, row["client_id"], None))
    return found


def _scan_birthday(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    days = Q(date_of_birth__month=today.month, date_of_birth__day=today.day)
    leap_year = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if today.month == 2 and today.day == 28 and not leap_year:
        # Born on 29 February: celebrated on the 28th when the year has no 29th.
        days |= Q(date_of_birth__month=2, date_of_birth__day=29)
    rows = clients_matching(rule.conditions).filter(days).values_list("pk", flat=True)
    return [(f"birthday:{pk}:{today.year}", pk, None) for pk in rows]


# Resting heart rate: the mean of the last RECENT_DAYS days (each of them measured) against
# the mean of the BASELINE_DAYS days before them (at least BASELINE_MIN_DAYS measured, so a
# new watch is not compared with a handful of nights).
RECENT_DAYS = 3
BASELINE_DAYS = 28
BASELINE_MIN_DAYS = 14
# No activity: a week (INACTIVE_DAYS) in which no day's steps (the day's winning source, as
# apps.wearables.selectors.daily_rows decides) are above ACTIVE_STEPS and no outside workout
# was recorded. A few hundred steps is a phone carried around the house, not activity.
INACTIVE_DAYS = 7
ACTIVE_STEPS = 500
# Clients per statement when reading daily rows (one UNION ALL of daily_rows per client).
WEARABLE_CHUNK = 200


def _wearable_clients(
    rule: Rule, kinds: tuple[str, ...], *, connected_before: datetime | None = None
) -> dict[int, date]:
    """Clients matching the rule with a connection that is syncing (not failing, not
    disconnected), shares one of `kinds`, and was made before `connected_before`: {client id:
    the day their earliest such connection was made}. A client whose sync fails has no data for a
    reason of its own; one who shares only nutrition has no steps to miss."""
    from apps.wearables.models import Connection, ConnectionStatus

    kind_filter = Q()
    for kind in kinds:
        kind_filter |= Q(kinds__contains=kind)
    connections = Connection.objects.filter(
        kind_filter,
        status=ConnectionStatus.ACTIVE,
        client__in=clients_matching(rule.conditions).values("pk"),
    )
    if connected_before is not None:
        connections = connections.filter(created_at__lt=connected_before)
    rows = connections.order_by("client_id", "created_at").values_list("client_id", "created_at")
    zone = gym_zone()
    first: dict[int, date] = {}
    for client_id, created_at in rows:
        first.setdefault(client_id, created_at.astimezone(zone).date())
    return first


def _daily_values(
    client_ids: list[int], *, kind: str, field: str, start: date, end: date
) -> dict[int, dict[date, Any]]:
    """{client id: {day: value}} of the day's winning row (apps.wearables.selectors.daily_rows,
    so two devices never count twice), in one statement per WEARABLE_CHUNK clients."""
    from apps.wearables.selectors import daily_rows

    values: dict[int, dict[date, Any]] = {client_id: {} for client_id in client_ids}
    for chunk_start in range(0, len(client_ids), WEARABLE_CHUNK):
        chunk = client_ids[chunk_start : chunk_start + WEARABLE_CHUNK]
        parts = [
            daily_rows(client_id=client_id, kind=kind, start=start, end=end).values(
                "client_id", "date", field
            )
            for client_id in chunk
        ]
        rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for row in rows:
            if row[field] is not None:
                values[row["client_id"]][row["date"]] = row[field]
    return values


def _resting_up_on(values: dict[date, int], day: date, bpm: int) -> bool:
    """Whether the mean resting heart rate of the RECENT_DAYS days to `day` is `bpm` or more
    above the mean of the BASELINE_DAYS days before them."""
    recent = [values.get(day - timedelta(days=i)) for i in range(RECENT_DAYS)]
    if any(value is None for value in recent):
        return False
    before = [
        values[d]
        for i in range(RECENT_DAYS, RECENT_DAYS + BASELINE_DAYS)
        if (d := day - timedelta(days=i)) in values
    ]
    if len(before) < BASELINE_MIN_DAYS:
        return False
    return sum(recent) / RECENT_DAYS >= sum(before) / len(before) + bpm


def _scan_resting_heart_rate(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    """Clients whose resting heart rate (3-day mean) rose `threshold` bpm above their 28-day
    usual. The moment is the first day of such a stretch: one run per stretch, and a new one
    only after a day back under it."""
    from apps.wearables.models import DataKind

    bpm = rule.threshold or 0
    since = _window_start(rule, today)
    connected = _wearable_clients(rule, (DataKind.HEART_RATE,))
    if not connected:
        return []
    # The day before the window too: a stretch that began before it is not a new moment.
    first_day = since - timedelta(days=1)
    values = _daily_values(
        sorted(connected),
        kind=DataKind.HEART_RATE,
        field="resting_bpm",
        start=first_day - timedelta(days=RECENT_DAYS + BASELINE_DAYS),
        end=today,
    )
    found = []
    for client_id, days in values.items():
        previous = _resting_up_on(days, first_day, bpm)
        day = since
        while day <= today:
            current = _resting_up_on(days, day, bpm)
            if current and not previous:
                found.append((f"resting_heart_rate_up:{bpm}:{client_id}:{day}", client_id, None))
            previous, day = current, day + timedelta(days=1)
    return found


def _scan_no_activity(rule: Rule, today: date) -> list[tuple[str, int | None, int | None]]:
    """Clients with a syncing wearable who did nothing for INACTIVE_DAYS days: no day above
    ACTIVE_STEPS and no outside workout. The moment is the day after that week, counted
    from their last active day (or from connecting): one run per quiet spell."""
    from apps.wearables.models import DataKind, ExternalWorkout

    since = _window_start(rule, today)
    zone = gym_zone()
    # A moment on day m means the last active day was m - INACTIVE_DAYS - 1.
    first_quiet = since - timedelta(days=INACTIVE_DAYS)
    last_quiet = today - timedelta(days=INACTIVE_DAYS)
    # Connected by the end of the first quiet day of the latest possible spell.
    connected = _wearable_clients(
        rule,
        (DataKind.ACTIVITY, DataKind.WORKOUTS),
        connected_before=datetime.combine(
            last_quiet + timedelta(days=1), datetime.min.time(), tzinfo=zone
        ),
    )
    if not connected:
        return []
    worked_out: dict[int, set[date]] = {}
    for client_id, day in ExternalWorkout.objects.filter(
        client_id__in=connected, date__gte=first_quiet - timedelta(days=1), date__lte=today
    ).values_list("client_id", "date"):
        worked_out.setdefault(client_id, set()).add(day)
    # Someone who worked out in the last week is active: no need to read their steps.
    quiet = sorted(
        client_id
        for client_id in connected
        if not any(day >= last_quiet for day in worked_out.get(client_id, ()))
    )
    if not quiet:
        return []
    steps = _daily_values(
        quiet,
        kind=DataKind.ACTIVITY,
        field="steps",
        start=first_quiet - timedelta(days=1),
        end=today,
    )
    found = []
    for client_id in quiet:
        active = {day for day, count in steps[client_id].items() if count > ACTIVE_STEPS}
        active |= worked_out.get(client_id, set())
        # Before the connection there is nothing to know: the day before it counts as active.
        last_active = max(active | {connected[client_id] - timedelta(days=1)})
        moment = last_active + timedelta(days=INACTIVE_DAYS + 1)
        if since <= moment <= today:
            found.append((f"no_activity:{client_id}:{last_active}", client_id, None))
    return found


SCANS = {
    Trigger.TRIAL_ENDING: _scan_trial_ending,
    Trigger.NO_VISIT: _scan_no_visit,
    Trigger.ADHERENCE_DROPPING: _scan_adherence,
    Trigger.BIRTHDAY: _scan_birthday,
    Trigger.RESTING_HEART_RATE_UP: _scan_resting_heart_rate,
    Trigger.NO_ACTIVITY: _scan_no_activity,
}


@transaction.atomic
def time_triggers_scan(*, now: datetime | None = None) -> int:
    """Find the moments of every enabled time-based rule (per gym, from Celery beat) and start
    a run for each new one. Idempotent: a second scan finds the same keys and starts nothing.
    Returns how many runs started."""
    today = gym_today(now)
    started = 0
    for rule in Rule.objects.filter(enabled=True, trigger__in=SCANNED_TRIGGERS):
        occurrences = SCANS[Trigger(rule.trigger)](rule, today)
        # Conditions are in the scans' own queries already, except for trial_ending's.
        started += _runs_start([rule], occurrences)
    if started:
        _dispatch_due_steps()
    return started


# --- Steps ------------------------------------------------------------------------------------


class StepError(Exception):
    """A step that cannot be done (no email address, no trainer): logged on the run."""


def _primary_trainer_user(client: Client | None) -> User | None:
    if client is None:
        return None
    assignment = (
        Assignment.objects.filter(client=client, ends_on__isnull=True)
        .select_related("trainer__user")
        .order_by("-is_primary", "starts_on", "pk")
        .first()
    )
    return assignment.trainer.user if assignment else None


def text_context(*, client: Client | None, lead: Lead | None) -> dict[str, str]:
    """The placeholders' values for a run's subject (TEXT_PLACEHOLDERS)."""
    person = client or lead
    first, last = getattr(person, "first_name", "") or "", getattr(person, "last_name", "") or ""
    gym = current_gym()
    trainer = _primary_trainer_user(client)
    context = {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "gym_name": gym.name,
        "trainer_name": (trainer.get_full_name() or trainer.email) if trainer else "",
        "portal_url": gym_url(gym=gym, path=reverse("portal:home", urlconf=GYM_URLCONF)),
    }
    assert set(context) == set(TEXT_PLACEHOLDERS)
    return context


def _render(text: str, context: dict[str, str]) -> str:
    from apps.notifications.templating import render_template

    return render_template(text, context)


def _lead_recipient(lead: Lead, channel: str) -> Lead | str:
    """The lead, when a message of `channel` may go to them; else why not (the run's log says
    so and goes on). An answer to someone's own enquiry is transactional mail: it needs no
    marketing consent, but only while the enquiry is open and recent, only by email or SMS at
    the address they left, never to a suppressed address (notify() checks), and SMS only when
    the gym has a Messaging Service."""
    if lead.status in (LeadStatus.CONVERTED, LeadStatus.LOST):
        return _("Not sent: the lead is %(status)s.") % {
            "status": LeadStatus(lead.status).label.lower()
        }
    if timezone.now() - lead.created_at > timedelta(days=LEAD_CONTACT_DAYS):
        return _("Not sent: the enquiry is more than %(days)d days old.") % {
            "days": LEAD_CONTACT_DAYS
        }
    if channel == Action.SMS:
        from apps.sms.selectors import messaging_service_for_gym

        if messaging_service_for_gym(gym=current_gym()) is None:
            return _("Not sent: the gym does not send texts.")
    return lead


def _send_message(run: Run, index: int, step: dict[str, Any], context: dict[str, str]) -> str:
    from apps.notifications.services import Content, notify

    client = run.client
    channel = step["action"]
    recipient: Client | Lead | None = client
    if client is None and run.lead is not None:
        recipient = _lead_recipient(run.lead, channel)
        if isinstance(recipient, str):
            return recipient
    if recipient is None:
        raise StepError(_("Only clients and leads receive messages."))
    # Rendered here: the texts may name the client's trainer, which notify() does not know.
    deliveries = notify(
        kind="automation_message",
        recipient=recipient,
        context={},
        event_key=f"automation:{run.pk}:{index}",
        channels=[channel],
        content=Content(
            subject=_render(step.get("subject", ""), context) or run.rule.name,
            text=_render(step.get("body", ""), context),
        ),
    )
    if not deliveries:
        # Not an error: the client does not take this channel (no login for in-app, no
        # consent to texts, email switched off), and the rule's other steps still apply.
        return _("Not sent: %(name)s does not receive messages this way.") % {
            "name": str(recipient)
        }
    return _("Message queued (%(channel)s).") % {"channel": deliveries[0].get_channel_display()}


def _notify_trainer(run: Run, index: int, step: dict[str, Any], context: dict[str, str]) -> str:
    from apps.notifications.services import Content, notify

    trainer = _primary_trainer_user(run.client)
    if trainer is None:
        raise StepError(_("The client has no trainer."))
    url = (
        reverse("crm:client_detail", args=[run.client_id], urlconf=GYM_URLCONF)
        if run.client_id
        else ""
    )
    notify(
        kind="automation_message",
        recipient=trainer,
        context={},
        event_key=f"automation:{run.pk}:{index}",
        url=url,
        content=Content(
            subject=_render(step.get("subject", ""), context) or run.rule.name,
            text=_render(step.get("body", ""), context),
        ),
    )
    return _("%(name)s notified.") % {"name": trainer.get_full_name() or trainer.email}


def _create_task(run: Run, index: int, step: dict[str, Any], context: dict[str, str]) -> str:
    assignee: User | None = None
    if step.get("assignee") == "trainer":
        assignee = _primary_trainer_user(run.client)
    elif step.get("assignee"):
        assignee = User.objects.filter(pk=int(step["assignee"]), is_active=True).first()
    task = StaffTask.objects.create(
        title=_render(step["title"], context)[:200],
        client_id=run.client_id,
        lead_id=run.lead_id,
        assignee=assignee,
        due_on=gym_today() + timedelta(days=int(step.get("due_days") or 0)),
    )
    audit_record(
        action="staff_task.created",
        obj=task,
        changes={"title": {"before": None, "after": task.title}, "rule": run.rule_id},
    )
    return _("Task created: %(title)s") % {"title": task.title}


def _client_change(run: Run, **fields: Any) -> bool:
    client = Client.objects.select_for_update().get(pk=run.client_id)
    before = {name: getattr(client, name) for name in fields}
    for name, value in fields.items():
        setattr(client, name, value)
    if "status" in fields:
        if client.status == ClientStatus.CHURNED and client.churned_on is None:
            client.churned_on = gym_today()
        elif client.status != ClientStatus.CHURNED:
            client.churned_on = None
    changes = changes_between(before, {name: getattr(client, name) for name in fields})
    if not changes:
        return False
    client.save(update_fields=[*fields, "churned_on", "updated_at"])
    audit_record(
        action="client.updated", obj=client, changes={**changes, "automation_rule": run.rule_id}
    )
    return True


def _change_tags(run: Run, index: int, step: dict[str, Any], context: dict[str, str]) -> str:
    if run.client is None:
        raise StepError(_("Only clients have tags."))
    tag = step["tag"]
    tags = set(run.client.tags)
    if step["action"] == Action.ADD_TAG:
        tags.add(tag)
    else:
        tags.discard(tag)
    changed = _client_change(run, tags=sorted(tags))
    if step["action"] == Action.ADD_TAG:
        return _("Tag %(tag)s added.") % {"tag": tag} if changed else _("Already tagged.")
    return _("Tag %(tag)s removed.") % {"tag": tag} if changed else _("Was not tagged.")


def _set_status(run: Run, index: int, step: dict[str, Any], context: dict[str, str]) -> str:
    if run.client is None:
        raise StepError(_("Only clients have a status."))
    _client_change(run, status=step["status"])
    return _("Status set to %(status)s.") % {"status": ClientStatus(step["status"]).label}


ACTIONS = {
    Action.EMAIL: _send_message,
    Action.SMS: _send_message,
    Action.IN_APP: _send_message,
    Action.NOTIFY_TRAINER: _notify_trainer,
    Action.CREATE_TASK: _create_task,
    Action.ADD_TAG: _change_tags,
    Action.REMOVE_TAG: _change_tags,
    Action.SET_STATUS: _set_status,
}


@transaction.atomic
def run_step(*, run_pk: int, now: datetime | None = None) -> bool:
    """Do the due step of one run and move it on, under the run's row lock (a run another
    worker holds is left to it). Returns whether a step was done."""
    now = now or timezone.now()
    run = (
        Run.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("rule", "client", "lead")
        .filter(pk=run_pk, status=RunStatus.WAITING, due_at__lte=now)
        .first()
    )
    if run is None:
        return False
    rule = run.rule
    if not rule.enabled:
        run.status, run.due_at = RunStatus.STOPPED, None
        run.save(update_fields=["status", "due_at"])
        return False
    index = run.next_step
    if index >= len(rule.steps):
        run.status, run.due_at = RunStatus.DONE, None
        run.save(update_fields=["status", "due_at"])
        return False
    step = rule.steps[index]
    entry: dict[str, Any] = {"step": index, "action": step["action"], "at": now.isoformat()}
    try:
        # A savepoint: a step that fails half-way leaves nothing behind but its log line.
        with transaction.atomic():
            context = text_context(client=run.client, lead=run.lead)
            entry["detail"] = str(ACTIONS[Action(step["action"])](run, index, step, context))
        entry["ok"] = True
    except (StepError, ValidationError) as error:
        entry["ok"], entry["error"] = False, "; ".join(getattr(error, "messages", [str(error)]))
    except Exception as error:  # one broken step must not stop the others
        logger.exception("Automation step failed", extra={"run": run.pk, "step": index})
        entry["ok"], entry["error"] = False, f"{type(error).__name__}: {error}"[:500]
    run.log = [*run.log, entry]
    if not entry["ok"]:
        run.status, run.due_at = RunStatus.FAILED, None
    elif index + 1 < len(rule.steps):
        run.next_step = index + 1
        delay = int(rule.steps[index + 1].get("delay_minutes") or 0)
        run.due_at = now + timedelta(minutes=delay)
    else:
        run.next_step, run.status, run.due_at = index + 1, RunStatus.DONE, None
    run.save(update_fields=["log", "status", "next_step", "due_at"])
    return True


def due_steps_run(*, now: datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Do every step that is due (per gym, from Celery beat): each run in its own transaction,
    so one slow or failing run holds up nobody else. Steps due at once after another (no
    delay) run in the same pass. Returns how many steps were done."""
    now = now or timezone.now()
    done = 0
    for _pass in range(20):
        due = list(
            Run.objects.filter(status=RunStatus.WAITING, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:limit]
        )
        did = sum(run_step(run_pk=pk, now=now) for pk in due)
        done += did
        # Nothing due, or all of it taken by another worker.
        if not did:
            break
    return done


# --- The staff to-do list ---------------------------------------------------------------------

STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)


def _require_staff(actor: User) -> None:
    if not has_role(actor, *STAFF_ROLES):
        raise PermissionDenied(_("Only staff have tasks."))


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    assignee: User | None = None,
    due_on: date | None = None,
    client: Client | None = None,
    lead: Lead | None = None,
) -> StaffTask:
    """A to-do for a member of staff (or nobody in particular). Anyone on the staff may add
    one; a task for someone else needs a manager, except one for nobody."""
    _require_staff(actor)
    if assignee is not None and assignee != actor and not is_management(actor):
        raise PermissionDenied(_("Only owners and managers give tasks to others."))
    if assignee is not None and not has_role(assignee, *STAFF_ROLES):
        raise ValidationError({"assignee": [_("Choose a member of staff.")]})
    task = StaffTask(
        title=title.strip(),
        assignee=assignee,
        due_on=due_on,
        client=client,
        lead=lead,
        created_by=actor,
    )
    model_save(task)
    audit_record(
        action="staff_task.created",
        actor=actor,
        obj=task,
        changes={"title": {"before": None, "after": task.title}},
    )
    return task


@transaction.atomic
def task_set_done(*, actor: User, task: StaffTask, done: bool = True) -> StaffTask:
    """Tick a task off (or back on). The assignee, anyone for a task of nobody's, managers
    for all."""
    from apps.automations.selectors import can_change_task

    task = StaffTask.objects.select_for_update().get(pk=task.pk)
    if not can_change_task(viewer=actor, task=task):
        raise PermissionDenied(_("This task is someone else's."))
    if (task.done_at is not None) == done:
        return task
    before = task.done_at
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done_at"])
    audit_record(
        action="staff_task.done" if done else "staff_task.reopened",
        actor=actor,
        obj=task,
        changes={"done_at": {"before": before, "after": task.done_at}},
    )
    return task


@transaction.atomic
def task_delete(*, actor: User, task: StaffTask) -> None:
    from apps.automations.selectors import can_change_task

    if not can_change_task(viewer=actor, task=task):
        raise PermissionDenied(_("This task is someone else's."))
    audit_record(
        action="staff_task.deleted",
        actor=actor,
        obj=task,
        changes={"title": {"before": task.title, "after": None}},
    )
    task.delete()
