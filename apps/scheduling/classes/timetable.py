"""Writes of the class pages (apps.scheduling.classes.views): class types, a new weekly class
from the timetable builder, "this and all following", and cancelling a class with an email to
its clients. Like services.py: keyword-only, atomic, rights checked, audited, emails on commit;
the booking, waitlist and generation rules they build on stay in services.py.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record, changes_between
from apps.billing.services import class_entitlements_return
from apps.core.services import check_fields_allowed, model_save, snapshot
from apps.crm.models import Trainer
from apps.scheduling.classes.services import (
    _check_management,
    _fill_from_waitlist,
    _local_instant,
    _lock_occurrence,
    occurrence_update,
    series_generate_occurrences,
    series_update_from,
)
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Room,
)
from apps.tenants.selectors import gym_today, gym_zone

CLASS_TYPE_FIELDS = (
    "name",
    "description",
    "default_capacity",
    "duration_minutes",
    "colour",
    "booking_opens_days",
    "booking_closes_minutes",
    "late_cancel_minutes",
)
# What "this and all following" may change: the days stay (other days are a new timetable),
# so booked clients keep their classes.
FOLLOWING_FIELDS = ("trainer", "room", "capacity", "local_start_time", "duration_minutes")
# A new timetable is filled this far ahead at once, as the admin's "generate" action does.
GENERATE_WEEKS = 8


# --- Class types -------------------------------------------------------------------------------


@transaction.atomic
def class_type_create(*, actor: User, **fields: Any) -> ClassType:
    """A new kind of class with its defaults and booking rules."""
    _check_management(actor)
    check_fields_allowed(fields, CLASS_TYPE_FIELDS)
    class_type = ClassType(**fields)
    model_save(class_type)
    audit_record(
        action="class_type.created",
        actor=actor,
        obj=class_type,
        changes=changes_between({}, snapshot(class_type, CLASS_TYPE_FIELDS)),
    )
    return class_type


@transaction.atomic
def class_type_update(*, actor: User, class_type: ClassType, **fields: Any) -> ClassType:
    """Change a class type; classes already on the timetable keep their own capacity and
    length (the type holds the defaults new timetables start from)."""
    _check_management(actor)
    check_fields_allowed(fields, CLASS_TYPE_FIELDS)
    class_type = ClassType.objects.select_for_update().get(pk=class_type.pk)
    before = snapshot(class_type, CLASS_TYPE_FIELDS)
    for name, value in fields.items():
        setattr(class_type, name, value)
    model_save(class_type)
    changes = changes_between(before, snapshot(class_type, CLASS_TYPE_FIELDS))
    if changes:
        audit_record(action="class_type.updated", actor=actor, obj=class_type, changes=changes)
    return class_type


# --- A weekly class ----------------------------------------------------------------------------


@transaction.atomic
def series_create(
    *,
    actor: User,
    class_type: ClassType,
    rrule: str,
    local_start_time: time,
    duration_minutes: int,
    capacity: int,
    starts_on: date,
    ends_on: date | None = None,
    trainer: Trainer | None = None,
    room: Room | None = None,
    weeks: int = GENERATE_WEEKS,
) -> ClassSeries:
    """A recurring class, with its classes of the next `weeks` weeks created at once so clients
    can book them. A rule dateutil cannot read is a ValidationError on `rrule`."""
    _check_management(actor)
    series = ClassSeries(
        class_type=class_type,
        trainer=trainer,
        room=room,
        capacity=capacity,
        local_start_time=local_start_time,
        duration_minutes=duration_minutes,
        rrule=rrule,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    model_save(series)
    audit_record(
        action="class_series.created",
        actor=actor,
        obj=series,
        changes=changes_between(
            {},
            {
                "class_type": class_type.pk,
                "rrule": rrule,
                "local_start_time": local_start_time.isoformat(),
                "duration_minutes": duration_minutes,
                "capacity": capacity,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "trainer": getattr(trainer, "pk", None),
                "room": getattr(room, "pk", None),
            },
        ),
    )
    series_generate_occurrences(
        series=series, until=gym_today() + timedelta(weeks=weeks), actor=actor
    )
    return series


def _series_update_whole(*, actor: User, series: ClassSeries, **changes: Any) -> ClassSeries:
    """Change a series from its first day on: nothing to split off, so the series itself
    changes and its classes follow as series_update_from moves them (edited ones are left
    alone, booked ones keep their day, the others are made again)."""
    series = ClassSeries.objects.select_for_update().get(pk=series.pk)
    before = snapshot(series, changes)
    for name, value in changes.items():
        setattr(series, name, value)
    model_save(series)
    zone = gym_zone()
    occurrences = list(series.occurrences.order_by("pk"))
    horizon = max(
        (o.starts_at.astimezone(zone).date() for o in occurrences), default=series.starts_on
    )
    duration = timedelta(minutes=series.duration_minutes)
    for occurrence in occurrences:
        occurrence = _lock_occurrence(occurrence)
        if occurrence.edited:
            continue
        if not occurrence.bookings.filter(status__in=ACTIVE_CLASS_STATUSES).exists():
            occurrence.delete()
            continue
        day = occurrence.starts_at.astimezone(zone).date()
        occurrence.starts_at = _local_instant(day, series.local_start_time, zone)
        occurrence.ends_at = occurrence.starts_at + duration
        occurrence.trainer_id = series.trainer_id
        occurrence.room_id = series.room_id
        occurrence.capacity = series.capacity
        occurrence.save()
        _fill_from_waitlist(occurrence, actor)
    audit_record(
        action="class_series.updated",
        actor=actor,
        obj=series,
        changes=changes_between(before, snapshot(series, changes)),
    )
    series_generate_occurrences(series=series, until=horizon, actor=actor)
    return series


@transaction.atomic
def occurrence_update_following(
    *, actor: User, occurrence: ClassOccurrence, **changes: Any
) -> ClassOccurrence:
    """Change this class and every later one of its series ("this and all following"): their
    time, length, trainer, room and capacity. Booked clients keep their bookings (a class
    with bookings stays on its day and takes the new time). Returns this class as it is
    afterwards."""
    _check_management(actor)
    check_fields_allowed(changes, FOLLOWING_FIELDS)
    if occurrence.series_id is None:
        raise ValidationError(
            {"scope": [_("This class is not part of a timetable: change only this class.")]}
        )
    zone = gym_zone()
    day = occurrence.starts_at.astimezone(zone).date()
    series = occurrence.series
    if day <= series.starts_on:
        series = _series_update_whole(actor=actor, series=series, **changes)
    else:
        series = series_update_from(actor=actor, series=series, from_date=day, **changes)
    this = series.occurrences.filter(
        starts_at__gte=_local_instant(day, time.min, zone),
        starts_at__lt=_local_instant(day + timedelta(days=1), time.min, zone),
    ).first()
    if this is not None and this.edited:
        # Changed on its own before, so the series edit left it alone; but it is the class the
        # person chose to change.
        starts_at = _local_instant(day, series.local_start_time, zone)
        this = occurrence_update(
            actor=actor,
            occurrence=this,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=series.duration_minutes),
            trainer=series.trainer,
            room=series.room,
            capacity=series.capacity,
        )
    return this or occurrence


# --- Cancelling a class ------------------------------------------------------------------------


def _notify_cancelled(*, occurrence: ClassOccurrence, reason: str) -> int:
    """Tell every client booked or waiting for the cancelled class, through the notification
    service (recorded now, sent once the cancellation commits: a rolled-back cancellation
    tells nobody). Returns how many clients it reaches."""
    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify
    from apps.scheduling.classes.services import class_notification_context

    bookings = occurrence.bookings.select_related("client__user").filter(
        status__in=(ClassBookingStatus.BOOKED, ClassBookingStatus.WAITLISTED)
    )
    notified = 0
    for booking in bookings:
        client = booking.client
        deliveries = notify(
            kind="class_cancelled",
            recipient=client,
            context={**class_notification_context(occurrence, client), "reason": reason},
            event_key=f"class_cancelled:{booking.pk}",
            url="/portal/",
            channels=client_channels(client),
        )
        notified += bool(deliveries)
    return notified


@transaction.atomic
def occurrence_cancel(
    *, actor: User, occurrence: ClassOccurrence, reason: str = ""
) -> ClassOccurrence:
    """Cancel one class: nobody can book it any more, it is marked `edited` so the series'
    edits and generation leave it cancelled, and its booked and waitlisted clients are
    emailed. Their bookings stay as they were, so the roster still shows who was coming."""
    _check_management(actor)
    occurrence = _lock_occurrence(occurrence)
    if occurrence.is_cancelled:
        raise ValidationError({"occurrence": [_("This class is already cancelled.")]})
    occurrence.is_cancelled = True
    occurrence.edited = True
    occurrence.save(update_fields=["is_cancelled", "edited"])
    notified = _notify_cancelled(occurrence=occurrence, reason=reason.strip())
    # The gym cancelled: everyone booked or waiting gets back what their booking used.
    class_entitlements_return(
        actor=actor,
        booking_pks=list(
            occurrence.bookings.filter(
                status__in=(ClassBookingStatus.BOOKED, ClassBookingStatus.WAITLISTED)
            ).values_list("pk", flat=True)
        ),
    )
    audit_record(
        action="class_occurrence.cancelled",
        actor=actor,
        obj=occurrence,
        changes={"is_cancelled": [False, True], "notified": [None, notified]},
    )
    return occurrence
