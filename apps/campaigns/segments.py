"""What a segment's definition may say, and how it becomes one SQL query over clients.

A definition is a plain dict, stored as JSON on `Segment.definition` and accepted as is by
`apps.campaigns.selectors.segment_clients` (automations use it for their conditions). Every key
is optional; an empty definition is every client. Keys:

- `status`: client statuses, any of (["active", "trial"]).
- `tags`: tags, any of (lower-cased, as the CRM stores them).
- `trainer`: id of a trainer currently assigned to the client.
- `plans`: membership plan ids, any of, with the membership in `membership_status` (default:
  any current status: trialing, active, past due, paused, suspended).
- `membership_status`: membership statuses, any of (alone: any plan).
- `visited_within_days` / `not_visited_days`: a check-in (a class or a 1:1 session) in the
  last N days, or none in the last N days (never visited counts as none).
- `joined_after` / `joined_before`: YYYY-MM-DD, inclusive.
- `adherence_below` / `adherence_at_least`: 30-day training adherence in percent, as
  apps.workouts.metrics defines it (completed / scheduled workouts in the window). A client
  with nothing scheduled has no adherence and matches neither.
- `birthday_month`: 1 to 12.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from apps.billing.models import CURRENT_MEMBERSHIP_STATUSES, Membership, MembershipStatus
from apps.core.dates import validate_date_in_range
from apps.crm.models import Assignment, ClientStatus
from apps.scheduling.models import Appointment, ClassBooking
from apps.training.models import ScheduledWorkout, ScheduledWorkoutStatus

ADHERENCE_WINDOW_DAYS = 30
MAX_DAYS = 3650
LIST_KEYS = ("status", "tags", "plans", "membership_status")
INT_KEYS = ("trainer", "visited_within_days", "not_visited_days")
PERCENT_KEYS = ("adherence_below", "adherence_at_least")
DATE_KEYS = ("joined_after", "joined_before")
KEYS = (*LIST_KEYS, *INT_KEYS, *PERCENT_KEYS, *DATE_KEYS, "birthday_month")


def _as_list(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, (list, tuple)):
        raise TypeError
    return [str(item).strip() for item in raw if str(item).strip()]


def _as_int(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError
    return int(str(raw).strip())


def definition_clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The definition with its values checked and normalised, empty keys dropped; a
    ValidationError naming each bad key."""
    if not isinstance(raw, Mapping):
        raise ValidationError({"definition": [_("Give the audience as an object.")]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    unknown = sorted(set(raw) - set(KEYS))
    for key in unknown:
        errors[key] = [_("Unknown audience rule.")]
    for key in LIST_KEYS:
        try:
            values = _as_list(raw.get(key))
        except TypeError:
            errors[key] = [_("Give a list.")]
            continue
        if not values:
            continue
        if key == "status":
            bad = [v for v in values if v not in ClientStatus.values]
        elif key == "membership_status":
            bad = [v for v in values if v not in MembershipStatus.values]
        elif key == "plans":
            bad = [v for v in values if not v.isdigit()]
        else:
            values = sorted({v.lower()[:40] for v in values})
            bad = []
        if bad:
            errors[key] = [_("Unknown value: %(values)s.") % {"values": ", ".join(bad)}]
            continue
        clean[key] = [int(v) for v in values] if key == "plans" else values
    for key in (*INT_KEYS, *PERCENT_KEYS, "birthday_month"):
        try:
            number = _as_int(raw.get(key))
        except (TypeError, ValueError):
            errors[key] = [_("Enter a whole number.")]
            continue
        if number is None:
            continue
        if key in PERCENT_KEYS:
            low, high = 0, 100
        elif key == "birthday_month":
            low, high = 1, 12
        elif key == "trainer":
            low, high = 1, 2**31 - 1
        else:
            low, high = 1, MAX_DAYS
        if not low <= number <= high:
            errors[key] = [
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
            continue
        clean[key] = number
    for key in DATE_KEYS:
        text = raw.get(key)
        if text in (None, ""):
            continue
        try:
            day = text if isinstance(text, date) else date.fromisoformat(str(text))
            validate_date_in_range(day)
        except (ValueError, ValidationError):
            errors[key] = [_("Enter a date as YYYY-MM-DD.")]
            continue
        clean[key] = day.isoformat()
    if (
        "joined_after" in clean
        and "joined_before" in clean
        and clean["joined_after"] > clean["joined_before"]
    ):
        errors["joined_before"] = [_("The end of the range is before its start.")]
    if errors:
        raise ValidationError(errors)
    return clean


def definition_q(definition: Mapping[str, Any], *, today: date, now: datetime) -> Q:
    """The clients `definition` (already cleaned) describes, as one condition: each rule an
    indexed column or an EXISTS on an indexed foreign key, so the whole audience is one query."""
    condition = Q()
    if statuses := definition.get("status"):
        condition &= Q(status__in=statuses)
    if tags := definition.get("tags"):
        # && on the array: the GIN index on tags answers it.
        condition &= Q(tags__overlap=tags)
    if trainer := definition.get("trainer"):
        condition &= Q(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("pk"), trainer_id=trainer, ends_on__isnull=True
                )
            )
        )
    plans, membership_statuses = definition.get("plans"), definition.get("membership_status")
    if plans or membership_statuses:
        memberships = Membership.objects.filter(
            client=OuterRef("pk"),
            status__in=membership_statuses or list(CURRENT_MEMBERSHIP_STATUSES),
        )
        if plans:
            memberships = memberships.filter(plan_id__in=plans)
        condition &= Q(Exists(memberships))
    for key, visited in (("visited_within_days", True), ("not_visited_days", False)):
        days = definition.get(key)
        if not days:
            continue
        since = now - timedelta(days=days)
        visit = Q(
            Exists(ClassBooking.objects.filter(client=OuterRef("pk"), checked_in_at__gte=since))
        ) | Q(Exists(Appointment.objects.filter(client=OuterRef("pk"), checked_in_at__gte=since)))
        condition &= visit if visited else ~visit
    if after := definition.get("joined_after"):
        condition &= Q(joined_on__gte=after)
    if before := definition.get("joined_before"):
        condition &= Q(joined_on__lte=before)
    for key, below in (("adherence_below", True), ("adherence_at_least", False)):
        percent = definition.get(key)
        if percent is None:
            continue
        since = today - timedelta(days=ADHERENCE_WINDOW_DAYS - 1)
        # completed * 100 < percent * scheduled, in integers: 60% of 5 is exact.
        windows = (
            ScheduledWorkout.objects.filter(client=OuterRef("pk"), date__gte=since, date__lte=today)
            .order_by()
            .values("client")
            .annotate(
                done=Count("pk", filter=Q(status=ScheduledWorkoutStatus.COMPLETED)),
                planned=Count("pk"),
            )
            .annotate(margin=F("done") * 100 - F("planned") * percent)
        )
        windows = windows.filter(margin__lt=0) if below else windows.filter(margin__gte=0)
        condition &= Q(Exists(windows))
    if month := definition.get("birthday_month"):
        condition &= Q(date_of_birth__month=month)
    return condition
