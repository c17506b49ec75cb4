"""Writes of group classes: series generation, edits, bookings with capacity and waitlist.

Capacity is decided under a row lock on the occurrence (`SELECT ... FOR UPDATE`): every booking,
cancellation and capacity change of one class queues on that row, so 200 clients booking a
20-spot class at once end with exactly 20 booked and the rest waitlisted in the order they got
the lock. Locks are always taken in the same order (the occurrence first, then its bookings by
primary key, like Saleor's lock_objects) so two writers can never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.audit.services import audit_event, audit_insert_sql, audit_record
from apps.automations.services import record_trigger
from apps.billing.models import CreditKind, EntitlementUse
from apps.billing.services import (
    class_booking_ref,
    class_entitlements_return,
    entitlement_return,
    entitlement_sources,
    entitlement_take,
)
from apps.crm.models import Assignment, Client
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    SPOT_STATUSES,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Strike,
    StrikeKind,
    parse_recurrence,
)
from apps.scheduling.policies.selectors import blocked_client_ids
from apps.scheduling.policies.services import (
    client_check_not_blocked,
    strike_record,
    strikes_waive_for,
)
from apps.tenants.branding import email_language
from apps.tenants.selectors import gym_zone

OCCURRENCE_FIELDS = ("starts_at", "ends_at", "trainer", "room", "capacity", "is_cancelled")
SERIES_FIELDS = ("trainer", "room", "capacity", "local_start_time", "duration_minutes", "rrule")


def _check_management(actor: User) -> None:
    if not has_role(actor, Role.OWNER, Role.MANAGER):
        raise PermissionDenied(_("Only owners and managers can change the class timetable."))


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: the wall time stays put across DST changes."""
    return datetime.combine(day, at).replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


@transaction.atomic
def series_generate_occurrences(
    *, series: ClassSeries, until: date, actor: User | None = None
) -> list[ClassOccurrence]:
    """Create the series' occurrences up to `until` (inclusive) and return the new ones.

    The rule runs over naive local datetimes; each gets the gym's zone attached and is
    converted to UTC, so a weekly 18:00 class stays at 18:00 local time in summer and winter.
    Idempotent: a local day that already has an occurrence of the series is skipped (which also
    leaves moved, edited occurrences alone)."""
    zone = gym_zone()
    last = min(until, series.ends_on) if series.ends_on else until
    if last < series.starts_on:
        return []
    start = datetime.combine(series.starts_on, series.local_start_time)
    rule = parse_recurrence(series.rrule, dtstart=start)
    days = [
        moment.date() for moment in rule.between(start, datetime.combine(last, time.max), inc=True)
    ]
    covered = {
        starts_at.astimezone(zone).date()
        for starts_at in series.occurrences.values_list("starts_at", flat=True)
    }
    duration = timedelta(minutes=series.duration_minutes)
    new = []
    for day in days:
        if day in covered:
            continue
        starts_at = _local_instant(day, series.local_start_time, zone)
        new.append(
            ClassOccurrence(
                series=series,
                class_type_id=series.class_type_id,
                trainer_id=series.trainer_id,
                room_id=series.room_id,
                starts_at=starts_at,
                ends_at=starts_at + duration,
                capacity=series.capacity,
            )
        )
    # ignore_conflicts: a concurrent run that created the same occurrence wins quietly.
    ClassOccurrence.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        audit_record(
            action="class_series.generated",
            actor=actor,
            obj=series,
            changes={"occurrences": [None, len(new)], "until": [None, last.isoformat()]},
        )
    return new


def _lock_occurrence(occurrence: ClassOccurrence) -> ClassOccurrence:
    """Lock the occurrence row first, always (see the module docstring). Only that row
    (`of=self`): locking the joined class type would queue every class of the type together."""
    return (
        ClassOccurrence.objects.select_related("class_type")
        .select_for_update(of=("self",))
        .get(pk=occurrence.pk)
    )


def class_notification_context(occurrence: ClassOccurrence, client: Client) -> dict[str, str]:
    """What the class notifications (booked, promoted, cancelled) say about a class: its name
    and start, in the gym's time zone, written in the client's language."""
    local = timezone.localtime(occurrence.starts_at, gym_zone())
    with translation.override(email_language(client.user)):
        when = f"{date_format(local, 'DATE_FORMAT')} {local:%H:%M}"
    return {"what": occurrence.class_type.name, "when": when}


def _notify_class(*, kind: str, booking: ClassBooking) -> list[Any]:
    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify

    client = booking.client
    return notify(
        kind=kind,
        recipient=client,
        context=class_notification_context(booking.occurrence, client),
        event_key=f"{kind}:class:{booking.pk}",
        url="/portal/",
        channels=client_channels(client),
    )


def _notify_promoted(booking: ClassBooking) -> None:
    # Recorded in the promotion's transaction and sent after it commits: a rolled-back
    # promotion tells nobody they have a spot.
    _notify_class(kind="waitlist_promoted", booking=booking)


def _notify_booked(booking: ClassBooking) -> None:
    """Confirm a spot (not a place on the waitlist) once the booking commits, after the class's
    lock is released: the lock is not held while the message is written."""
    if booking.status != ClassBookingStatus.BOOKED:
        return
    transaction.on_commit(partial(_notify_class, kind="booking_confirmed", booking=booking))


def _fill_from_waitlist(occurrence: ClassOccurrence, actor: User | None) -> list[ClassBooking]:
    """Promote waitlisted bookings, first come first served, while spots are free. Call with
    the occurrence locked. Positions of those still waiting are kept (arrival numbers).
    Clients the gym's policy blocks from booking are passed over and stay on the waitlist
    (they are promoted later if a spot is still free once their block ends). Once the class
    has started nobody is promoted: a spot freed then is of no use, and the waitlist ends
    (`waitlists_expire`)."""
    if occurrence.is_cancelled or occurrence.starts_at <= timezone.now():
        return []
    taken = occurrence.bookings.filter(status__in=SPOT_STATUSES).count()
    free = occurrence.capacity - taken
    if free <= 0:
        return []
    candidates = list(
        occurrence.bookings.select_for_update()
        .filter(status=ClassBookingStatus.WAITLISTED)
        .select_related("client", "occurrence__class_type")
        .order_by("waitlist_position", "pk")
    )
    blocked = blocked_client_ids(client_ids={booking.client_id for booking in candidates})
    waiting = [booking for booking in candidates if booking.client_id not in blocked][:free]
    for booking in waiting:
        old_position = booking.waitlist_position
        booking.status = ClassBookingStatus.BOOKED
        booking.waitlist_position = None
        booking.save(update_fields=["status", "waitlist_position"])
        audit_record(
            action="class_booking.promoted",
            actor=actor,
            obj=booking,
            changes={
                "status": [ClassBookingStatus.WAITLISTED, ClassBookingStatus.BOOKED],
                "waitlist_position": [old_position, None],
            },
        )
        _notify_promoted(booking)
    return waiting


@transaction.atomic
def occurrence_update(
    *, actor: User, occurrence: ClassOccurrence, **changes: Any
) -> ClassOccurrence:
    """Edit one occurrence; it is marked `edited` so series edits leave it alone. Raising the
    capacity promotes from the waitlist."""
    _check_management(actor)
    unknown = set(changes) - set(OCCURRENCE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    occurrence = _lock_occurrence(occurrence)
    diff = {}
    for name, value in changes.items():
        old = getattr(occurrence, name)
        if old != value:
            diff[name] = [getattr(old, "pk", old), getattr(value, "pk", value)]
            setattr(occurrence, name, value)
    if occurrence.ends_at <= occurrence.starts_at:
        raise ValidationError({"ends_at": [_("The end must be after the start.")]})
    occurrence.edited = True
    occurrence.save()
    audit_record(
        action="class_occurrence.updated",
        actor=actor,
        obj=occurrence,
        changes={key: [str(a), str(b)] for key, (a, b) in diff.items()},
    )
    _fill_from_waitlist(occurrence, actor)
    return occurrence


@transaction.atomic
def series_update_from(
    *, actor: User, series: ClassSeries, from_date: date, **changes: Any
) -> ClassSeries:
    """Change a series from `from_date` on ("this and following"). Kept simple:

    - the old series ends the day before; a new series with the changes starts on `from_date`;
    - its occurrences from that day on move to the new series: edited ones as they are;
      unedited ones with active bookings keep their day and bookings but take the new time,
      trainer, room and capacity; unedited ones without bookings are deleted;
    - the new series is generated up to the old one's last generated day.
    Returns the new series."""
    _check_management(actor)
    unknown = set(changes) - set(SERIES_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if from_date <= series.starts_on:
        raise ValidationError({"from_date": [_("Choose a day after the series starts.")]})
    series = ClassSeries.objects.select_for_update().get(pk=series.pk)
    zone = gym_zone()
    future = [
        occurrence
        for occurrence in series.occurrences.order_by("pk")
        if occurrence.starts_at.astimezone(zone).date() >= from_date
    ]
    horizon = max((o.starts_at.astimezone(zone).date() for o in future), default=from_date)
    new_series = ClassSeries.objects.get(pk=series.pk)
    new_series.pk = None
    for name, value in changes.items():
        setattr(new_series, name, value)
    new_series.starts_on = from_date
    new_series.save()
    series.ends_on = from_date - timedelta(days=1)
    series.save(update_fields=["ends_on"])
    duration = timedelta(minutes=new_series.duration_minutes)
    for occurrence in future:
        occurrence = _lock_occurrence(occurrence)
        if occurrence.edited:
            occurrence.series = new_series
            occurrence.save(update_fields=["series"])
            continue
        if not occurrence.bookings.filter(status__in=ACTIVE_CLASS_STATUSES).exists():
            occurrence.delete()
            continue
        day = occurrence.starts_at.astimezone(zone).date()
        occurrence.series = new_series
        occurrence.starts_at = _local_instant(day, new_series.local_start_time, zone)
        occurrence.ends_at = occurrence.starts_at + duration
        occurrence.trainer_id = new_series.trainer_id
        occurrence.room_id = new_series.room_id
        occurrence.capacity = new_series.capacity
        occurrence.save()
        _fill_from_waitlist(occurrence, actor)
    audit_record(
        action="class_series.updated_from",
        actor=actor,
        obj=new_series,
        changes={
            "from_date": [None, from_date.isoformat()],
            "previous_series": [None, series.pk],
            **{name: [None, str(getattr(value, "pk", value))] for name, value in changes.items()},
        },
    )
    series_generate_occurrences(series=new_series, until=horizon, actor=actor)
    return new_series


def _check_may_book_client(*, actor: User, client: Client) -> None:
    if has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return
    if has_role(actor, Role.CLIENT) and client.user_id == actor.pk:
        return
    if (
        has_role(actor, Role.TRAINER)
        and Assignment.objects.filter(
            trainer__user=actor, client=client, ends_on__isnull=True
        ).exists()
    ):
        return
    raise PermissionDenied(_("You cannot book or cancel classes for this client."))


# A booking is one round trip while the class is locked, then the commit: every booking of a
# class waits for the one before it, so the time between taking the occurrence's row lock and
# committing is what 200 clients booking at once queue on. (bench/booking_contention.py: the
# same booking through the ORM, five statements under the lock, had 2.3-2.6 times this p95.)
# The round trip carries two statements (psycopg binds parameters client-side, as Django uses
# it):
# 1. the lock on the occurrence row;
# 2. the class's rules, read after the lock, and the booking with its audit event when none
#    refuses. `verdict` is the one place the rules live: the class is not cancelled, its
#    booking window (its class type's) is open, the client has no active booking of it, and,
#    unless the caller asked the gym's policy already, the client has no unwaived strike (most
#    have none; for the others class_book asks the policy, which alone says who is blocked,
#    and runs the statement again). `refusal` names the first rule that refuses, in that
#    order; class_book turns it into the error. Status and waitlist position come from the
#    class's bookings as they are after the lock (a statement started after the lock sees
#    every booking committed before it). created_at is the moment the lock was got
#    (clock_timestamp, not the transaction's start): arrival order. ON CONFLICT only backs up
#    the "no active booking" rule for a booking written without the class's lock.
_BOOK_SQL = """
SELECT 1 FROM {occurrences} WHERE id = %(occurrence)s FOR UPDATE;
WITH verdict AS (
    SELECT o.id AS occurrence_id,
           CASE
               WHEN o.is_cancelled THEN 'cancelled'
               WHEN %(now)s < o.starts_at - make_interval(days => t.booking_opens_days)
                   THEN 'not_open'
               WHEN %(now)s > o.starts_at - make_interval(mins => t.booking_closes_minutes)
                   THEN 'closed'
               WHEN EXISTS (
                   SELECT 1 FROM {bookings}
                    WHERE occurrence_id = o.id AND client_id = %(client)s
                      AND status IN ({active})) THEN 'already_booked'
               WHEN NOT %(strikes_checked)s AND EXISTS (
                   SELECT 1 FROM {strikes}
                    WHERE client_id = %(client)s AND waived_at IS NULL) THEN 'strikes'
           END AS refusal,
           CASE WHEN f.taken < o.capacity THEN %(booked)s ELSE %(waitlisted)s END AS status,
           CASE WHEN f.taken < o.capacity THEN NULL ELSE f.last + 1 END AS waitlist_position
      FROM {occurrences} AS o
      JOIN {class_types} AS t ON t.id = o.class_type_id,
           (SELECT count(*) FILTER (WHERE status = ANY(%(spot)s)) AS taken,
                   coalesce(max(waitlist_position), 0) AS last
              FROM {bookings} WHERE occurrence_id = %(occurrence)s) AS f
     WHERE o.id = %(occurrence)s
), booking AS (
    INSERT INTO {bookings} (occurrence_id, client_id, status, waitlist_position, created_at)
    SELECT occurrence_id, %(client)s, status, waitlist_position, clock_timestamp()
      FROM verdict WHERE refusal IS NULL
    ON CONFLICT (occurrence_id, client_id) WHERE status IN ({active}) DO NOTHING
    RETURNING id, status, waitlist_position, created_at
), audit AS (
    {audit}
)
SELECT verdict.refusal, booking.id, booking.status, booking.waitlist_position,
       booking.created_at
  FROM verdict LEFT JOIN booking ON true
"""

_AUDIT_OUTCOME_SQL = (
    "jsonb_build_object('status', jsonb_build_array(NULL, booking.status), "
    "'waitlist_position', jsonb_build_array(NULL, booking.waitlist_position))"
)


def _already_booked() -> ValidationError:
    return ValidationError({"client": [_("This client is already booked for this class.")]})


# The errors for _BOOK_SQL's refusals (built when raised: the messages are translated).
_REFUSALS: dict[str, Callable[[], ValidationError]] = {
    "cancelled": lambda: ValidationError({"occurrence": [_("This class is cancelled.")]}),
    "not_open": lambda: ValidationError(
        {
            "occurrence": ValidationError(
                _("Booking for this class is not open yet."), code="not_open"
            )
        }
    ),
    "closed": lambda: ValidationError(
        {"occurrence": ValidationError(_("Booking for this class has closed."), code="closed")}
    ),
    "already_booked": _already_booked,
}


def class_book(
    *,
    actor: User,
    occurrence: ClassOccurrence,
    client: Client,
    override_membership: bool = False,
) -> ClassBooking:
    """Book a client into a class; when it is full they join the waitlist in arrival order.
    A client blocked by the gym's policy cannot book. When the gym requires memberships, the
    booking (a spot or a place on the waitlist) uses an allowance or one credit, taken while
    the class is still locked; owners and managers may `override_membership`.

    Who may book whom is checked first; then one round trip locks the class, checks its rules
    and writes the booking with its audit event (see _BOOK_SQL). Where the request came from
    reaches the audit event through the audit context, not an argument."""
    _check_may_book_client(actor=actor, client=client)
    # Read before the transaction and the class's lock: a client with nothing valid (most of
    # a race for the last credits) is refused after one query, without waiting for any lock.
    sources = entitlement_sources(
        client=client,
        kind=CreditKind.CLASS,
        starts_at=occurrence.starts_at,
        class_type_id=occurrence.class_type_id,
        override=override_membership,
    )
    with transaction.atomic():
        refusal, row = _book_locked(actor=actor, occurrence=occurrence, client=client)
        if refusal == "strikes":
            # Still under the class's lock: the policy decides, and the booking is tried again.
            client_check_not_blocked(client=client)
            refusal, row = _book_locked(
                actor=actor, occurrence=occurrence, client=client, strikes_checked=True
            )
        if refusal is not None:
            raise _REFUSALS[refusal]()
        pk, status, position, created_at = row
        if pk is None:  # the unique index refused a booking written without the class's lock
            raise _already_booked()
        if sources.required:
            # Still under the class's lock: the credit rows are locked after it (billing's order).
            entitlement_take(
                actor=actor,
                client=client,
                kind=CreditKind.CLASS,
                booking_ref=class_booking_ref(pk),
                starts_at=occurrence.starts_at,
                class_type_id=occurrence.class_type_id,
                override=override_membership,
                sources=sources,
            )
        booking = ClassBooking(
            pk=pk,
            occurrence=occurrence,
            client=client,
            status=status,
            waitlist_position=position,
            created_at=created_at,
        )
        _notify_booked(booking)
        return booking


def _book_locked(
    *, actor: User, occurrence: ClassOccurrence, client: Client, strikes_checked: bool = False
) -> tuple[str | None, tuple[Any, ...]]:
    """Run _BOOK_SQL: the refusal (None when booked) and the new booking's (id, status,
    waitlist position, created_at), all None when nothing was written."""
    event = audit_event(
        action="class_booking.created",
        actor=actor,
        object_type=ClassBooking._meta.label_lower,
        changes={"occurrence": [None, occurrence.pk], "client": [None, client.pk]},
    )
    audit_sql, audit_params = audit_insert_sql(
        event, source="booking", object_id_sql="booking.id", changes_sql=_AUDIT_OUTCOME_SQL
    )
    quote = connection.ops.quote_name
    sql = _BOOK_SQL.format(
        occurrences=quote(ClassOccurrence._meta.db_table),
        class_types=quote(ClassType._meta.db_table),
        bookings=quote(ClassBooking._meta.db_table),
        strikes=quote(Strike._meta.db_table),
        active=", ".join(f"'{status}'" for status in ACTIVE_CLASS_STATUSES),
        audit=audit_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "occurrence": occurrence.pk,
                "client": client.pk,
                "booked": ClassBookingStatus.BOOKED.value,
                "waitlisted": ClassBookingStatus.WAITLISTED.value,
                "spot": [str(status) for status in SPOT_STATUSES],
                # The application's clock, as for every other rule of the booking.
                "now": timezone.now(),
                "strikes_checked": strikes_checked,
                **audit_params,
            },
        )
        cursor.nextset()  # past the lock's row, to the verdict's
        row = cursor.fetchone()
    if row is None:
        raise ClassOccurrence.DoesNotExist("ClassOccurrence matching query does not exist.")
    return row[0], row[1:]


@transaction.atomic
def class_cancel(*, actor: User, booking: ClassBooking, waive_late: bool = False) -> ClassBooking:
    """Cancel a booking or leave the waitlist. A booked spot cancelled inside the class type's
    late-cancel window is `late_cancelled` (unless staff waive it); the freed spot goes to the
    first on the waitlist, who is emailed."""
    _check_may_book_client(actor=actor, client=booking.client)
    if waive_late and not has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        raise PermissionDenied(_("Only staff at the desk or managers can waive a late cancel."))
    occurrence = _lock_occurrence(booking.occurrence)
    booking = ClassBooking.objects.select_for_update().get(pk=booking.pk)
    old = booking.status
    if old == ClassBookingStatus.WAITLISTED:
        booking.status = ClassBookingStatus.CANCELLED
    elif old == ClassBookingStatus.BOOKED:
        window = timedelta(minutes=occurrence.class_type.late_cancel_minutes)
        late = timezone.now() > occurrence.starts_at - window and not waive_late
        booking.status = ClassBookingStatus.LATE_CANCELLED if late else ClassBookingStatus.CANCELLED
    else:
        raise ValidationError(
            {"status": [_("Only a booked or waitlisted class can be cancelled.")]}
        )
    old_position = booking.waitlist_position
    booking.waitlist_position = None
    booking.save(update_fields=["status", "waitlist_position"])
    audit_record(
        action="class_booking.cancelled",
        actor=actor,
        obj=booking,
        changes={
            "status": [old, booking.status],
            "waitlist_position": [old_position, None],
        },
    )
    if booking.status == ClassBookingStatus.LATE_CANCELLED:
        strike_record(kind=StrikeKind.LATE_CANCEL, class_booking=booking, actor=actor)
    else:
        # Cancelled in time: the credit or allowance comes back (a late cancel forfeits it).
        entitlement_return(actor=actor, booking_ref=class_booking_ref(booking.pk))
    if old == ClassBookingStatus.BOOKED:
        _fill_from_waitlist(occurrence, actor)
    return booking


@transaction.atomic
def booking_mark_no_show(*, actor: User, booking: ClassBooking) -> ClassBooking:
    """Staff (or the class's trainer) mark a booked client who did not come, once it started."""
    occurrence = booking.occurrence
    is_trainer = occurrence.trainer is not None and occurrence.trainer.user_id == actor.pk
    if not (has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK) or is_trainer):
        raise PermissionDenied(_("You cannot mark no-shows for this class."))
    booking = ClassBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != ClassBookingStatus.BOOKED:
        raise ValidationError({"status": [_("Only a booked client can be marked as a no-show.")]})
    if timezone.now() < occurrence.starts_at:
        raise ValidationError({"status": [_("The class has not started yet.")]})
    booking.status = ClassBookingStatus.NO_SHOW
    booking.save(update_fields=["status"])
    audit_record(
        action="class_booking.no_show",
        actor=actor,
        obj=booking,
        changes={"status": [ClassBookingStatus.BOOKED, ClassBookingStatus.NO_SHOW]},
    )
    # The no-show counts from the class's start, not from when staff noticed.
    strike_record(
        kind=StrikeKind.NO_SHOW,
        class_booking=booking,
        occurred_at=occurrence.starts_at,
        actor=actor,
    )
    return booking


# Staff may check a client in from this long before the class starts.
CHECK_IN_OPENS = timedelta(minutes=60)


@transaction.atomic
def class_check_in(*, actor: User, booking: ClassBooking, via_kiosk: bool = False) -> ClassBooking:
    """Record that a booked client arrived: `attended` with `checked_in_at`. Front desk,
    managers and owners check anyone in, a trainer their own classes. Checking in twice
    records once; a no-show marked too early is undone and its strike waived."""
    occurrence = booking.occurrence
    is_trainer = (
        has_role(actor, Role.TRAINER)
        and occurrence.trainer is not None
        and occurrence.trainer.user_id == actor.pk
    )
    if not (has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK) or is_trainer):
        raise PermissionDenied(_("You cannot check clients in to this class."))
    # Lock order as everywhere: the occurrence, then the booking.
    occurrence = _lock_occurrence(occurrence)
    booking = ClassBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status == ClassBookingStatus.ATTENDED:
        return booking
    if booking.status not in (ClassBookingStatus.BOOKED, ClassBookingStatus.NO_SHOW):
        raise ValidationError({"status": [_("Only a booked client can be checked in.")]})
    if occurrence.is_cancelled:
        raise ValidationError({"occurrence": [_("This class is cancelled.")]})
    now = timezone.now()
    if now < occurrence.starts_at - CHECK_IN_OPENS:
        raise ValidationError({"occurrence": [_("Check-in opens an hour before the class.")]})
    old = booking.status
    booking.status = ClassBookingStatus.ATTENDED
    booking.checked_in_at = now
    booking.save(update_fields=["status", "checked_in_at"])
    audit_record(
        action="class_booking.checked_in",
        actor=actor,
        obj=booking,
        changes={
            "status": [old, booking.status],
            "checked_in_at": [None, now.isoformat()],
            "via_kiosk": [None, via_kiosk],
        },
    )
    record_trigger("checked_in", client_id=booking.client_id, key=f"class_booking:{booking.pk}")
    if old == ClassBookingStatus.NO_SHOW:
        strikes_waive_for(
            actor=actor,
            class_booking=booking,
            reason=_("Checked in after being marked a no-show."),
        )
    return booking


# --- Waitlists of classes that have started --------------------------------------------------


def _notify_waitlist_expired(booking: ClassBooking, *, returned: bool) -> None:
    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify

    client = booking.client
    notify(
        kind="waitlist_expired",
        recipient=client,
        context={
            **class_notification_context(booking.occurrence, client),
            "returned": returned,
        },
        event_key=f"waitlist_expired:class:{booking.pk}",
        url="/portal/schedule/",
        channels=client_channels(client),
    )


@transaction.atomic
def waitlist_expire(*, occurrence: ClassOccurrence, now: datetime | None = None) -> int:
    """Close the waitlist of one class that has started (and is not cancelled): each booking
    still waiting ends `waitlist_expired`, gets back what it used (billing's
    class_entitlements_return) and its client is told. A class not started yet, or cancelled
    (cancelling gave everything back already), is left alone. Returns how many places ended;
    running again finds none."""
    now = now or timezone.now()
    # Lock order as everywhere: the occurrence, then its bookings by primary key. A late
    # cancel can still promote from the waitlist; under the lock, it is one or the other.
    occurrence = _lock_occurrence(occurrence)
    if occurrence.is_cancelled or occurrence.starts_at > now:
        return 0
    waiting = list(
        occurrence.bookings.select_for_update(of=("self",))
        .select_related("client__user")
        .filter(status=ClassBookingStatus.WAITLISTED)
        .order_by("pk")
    )
    if not waiting:
        return 0
    refs = {class_booking_ref(booking.pk): booking for booking in waiting}
    # Which places used something (a gym that does not require memberships took nothing),
    # so the message says "given back" only to those who get something back.
    used = set(
        EntitlementUse.objects.filter(booking_ref__in=refs, returned_at__isnull=True).values_list(
            "booking_ref", flat=True
        )
    )
    for booking in waiting:
        old_position = booking.waitlist_position
        booking.status = ClassBookingStatus.WAITLIST_EXPIRED
        booking.waitlist_position = None
        booking.occurrence = occurrence
        audit_record(
            action="class_booking.waitlist_expired",
            actor=None,
            obj=booking,
            changes={
                "status": [ClassBookingStatus.WAITLISTED, ClassBookingStatus.WAITLIST_EXPIRED],
                "waitlist_position": [old_position, None],
                "entitlement_returned": [None, class_booking_ref(booking.pk) in used],
            },
        )
    ClassBooking.objects.bulk_update(waiting, ["status", "waitlist_position"])
    class_entitlements_return(actor=None, booking_pks=[booking.pk for booking in waiting])
    for ref, booking in refs.items():
        _notify_waitlist_expired(booking, returned=ref in used)
    return len(waiting)


def waitlists_expire(*, now: datetime | None = None) -> int:
    """Close the waitlists of every class that has started and still has clients waiting
    (waitlist_expire, one class at a time: each in its own transaction, so the class's lock is
    held briefly and one class's failure keeps the others' done). Idempotent: beat runs it
    every 15 minutes. Returns how many places ended."""
    now = now or timezone.now()
    occurrences = (
        ClassOccurrence.objects.filter(
            is_cancelled=False,
            starts_at__lte=now,
            bookings__status=ClassBookingStatus.WAITLISTED,
        )
        .distinct()
        .order_by("pk")
    )
    return sum(waitlist_expire(occurrence=occurrence, now=now) for occurrence in list(occurrences))
