"""Writes of the gym settings pages: locations, rooms and trainers' availability. Every write is
atomic, checks the actor's rights and records an audit event in the same transaction."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.audit.services import audit_record, changes_between
from apps.core.services import check_fields_allowed
from apps.crm.models import Trainer
from apps.scheduling.models import (
    Appointment,
    Availability,
    AvailabilityException,
    ClassOccurrence,
    ExceptionKind,
    Location,
    Room,
)

LOCATION_FIELDS = ("name", "address")
ROOM_FIELDS = ("name", "capacity")


def _require_management(actor: User) -> None:
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers change locations and rooms."))


def _require_may_edit_availability(actor: User, trainer: Trainer) -> None:
    if not (is_management(actor) or trainer.user_id == actor.pk):
        raise PermissionDenied(_("You cannot change this trainer's availability."))


def _clean_and_save(obj: Any, duplicate_field: str, duplicate_message: str) -> None:
    """full_clean for field errors, then save; a unique constraint lost to a concurrent insert
    becomes the same field error."""
    obj.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({duplicate_field: [duplicate_message]}) from exc


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | time) else value


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: _text(getattr(obj, field)) for field in fields}


# --- Locations ------------------------------------------------------------------------------


def _check_location_name(name: str, exclude_pk: int | None = None) -> None:
    taken = Location.objects.filter(name__iexact=name.strip()).exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": [_("A location with this name already exists.")]})


@transaction.atomic
def location_create(*, actor: User, name: str, address: str = "") -> Location:
    _require_management(actor)
    _check_location_name(name)
    location = Location(name=name.strip(), address=address.strip())
    _clean_and_save(location, "name", _("A location with this name already exists."))
    audit_record(
        action="location.created",
        actor=actor,
        obj=location,
        changes=changes_between({}, _snapshot(location, LOCATION_FIELDS)),
    )
    return location


@transaction.atomic
def location_update(*, actor: User, location: Location, **fields: Any) -> Location:
    _require_management(actor)
    check_fields_allowed(fields, LOCATION_FIELDS)
    location = Location.objects.select_for_update().get(pk=location.pk)
    if "name" in fields:
        _check_location_name(fields["name"], exclude_pk=location.pk)
    before = _snapshot(location, LOCATION_FIELDS)
    for field, value in fields.items():
        setattr(location, field, value.strip() if isinstance(value, str) else value)
    _clean_and_save(location, "name", _("A location with this name already exists."))
    changes = changes_between(before, _snapshot(location, LOCATION_FIELDS))
    if changes:
        audit_record(action="location.updated", actor=actor, obj=location, changes=changes)
    return location


def _rooms_in_use(rooms: Any) -> bool:
    """Rooms booked for an upcoming session or class, or with past appointments (whose history
    keeps its room: the foreign key protects it)."""
    now = timezone.now()
    return (
        Appointment.objects.filter(room__in=rooms).exists()
        or ClassOccurrence.objects.filter(
            room__in=rooms, starts_at__gte=now, is_cancelled=False
        ).exists()
    )


@transaction.atomic
def location_delete(*, actor: User, location: Location) -> None:
    """Delete a location and its rooms; refused while one of its rooms is in use."""
    _require_management(actor)
    location = Location.objects.select_for_update().get(pk=location.pk)
    if _rooms_in_use(Room.objects.filter(location=location)):
        raise ValidationError(
            _("A room of this location has sessions or upcoming classes; move them first.")
        )
    audit_record(
        action="location.deleted",
        actor=actor,
        obj=location,
        changes=changes_between(_snapshot(location, LOCATION_FIELDS), {}),
    )
    location.delete()


# --- Rooms ----------------------------------------------------------------------------------


def _check_room_name(location: Location, name: str, exclude_pk: int | None = None) -> None:
    taken = Room.objects.filter(location=location, name__iexact=name.strip()).exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": [_("This location already has a room of this name.")]})


@transaction.atomic
def room_create(*, actor: User, location: Location, name: str, capacity: int = 1) -> Room:
    _require_management(actor)
    _check_room_name(location, name)
    if capacity is None or capacity < 1:
        raise ValidationError({"capacity": [_("A room holds at least one person.")]})
    room = Room(location=location, name=name.strip(), capacity=capacity)
    _clean_and_save(room, "name", _("This location already has a room of this name."))
    audit_record(
        action="room.created",
        actor=actor,
        obj=room,
        changes=changes_between({}, {"location": location.name, **_snapshot(room, ROOM_FIELDS)}),
    )
    return room


@transaction.atomic
def room_update(*, actor: User, room: Room, **fields: Any) -> Room:
    _require_management(actor)
    check_fields_allowed(fields, ROOM_FIELDS)
    room = Room.objects.select_for_update().select_related("location").get(pk=room.pk)
    if "name" in fields:
        _check_room_name(room.location, fields["name"], exclude_pk=room.pk)
    if "capacity" in fields and (fields["capacity"] is None or fields["capacity"] < 1):
        raise ValidationError({"capacity": [_("A room holds at least one person.")]})
    before = _snapshot(room, ROOM_FIELDS)
    for field, value in fields.items():
        setattr(room, field, value.strip() if isinstance(value, str) else value)
    _clean_and_save(room, "name", _("This location already has a room of this name."))
    changes = changes_between(before, _snapshot(room, ROOM_FIELDS))
    if changes:
        audit_record(action="room.updated", actor=actor, obj=room, changes=changes)
    return room


@transaction.atomic
def room_delete(*, actor: User, room: Room) -> None:
    _require_management(actor)
    room = Room.objects.select_for_update().get(pk=room.pk)
    if _rooms_in_use(Room.objects.filter(pk=room.pk)):
        raise ValidationError(
            _("This room has sessions or upcoming classes; move them to another room first.")
        )
    audit_record(
        action="room.deleted",
        actor=actor,
        obj=room,
        changes=changes_between(_snapshot(room, ROOM_FIELDS), {}),
    )
    room.delete()


# --- Trainer availability -------------------------------------------------------------------


@transaction.atomic
def availability_add(
    *,
    actor: User,
    trainer: Trainer,
    weekday: int,
    start_time: time,
    end_time: time,
) -> Availability:
    """Add a weekly window (gym local time); it may touch the day's other windows but not
    overlap them."""
    _require_may_edit_availability(actor, trainer)
    if weekday not in range(7):
        raise ValidationError({"weekday": [_("Choose a day of the week.")]})
    if end_time <= start_time:
        raise ValidationError({"end_time": [_("The end must be after the start.")]})
    # Lock the trainer so two edits of the same week are checked one after the other.
    Trainer.objects.select_for_update().get(pk=trainer.pk)
    overlapping = Availability.objects.filter(
        trainer=trainer, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time
    )
    if overlapping.exists():
        raise ValidationError(
            {"start_time": [_("This window overlaps another window of the same day.")]}
        )
    window = Availability.objects.create(
        trainer=trainer, weekday=weekday, start_time=start_time, end_time=end_time
    )
    audit_record(
        action="availability.created",
        actor=actor,
        obj=window,
        changes=changes_between(
            {},
            {
                "trainer": trainer.pk,
                "weekday": weekday,
                "start_time": _text(start_time),
                "end_time": _text(end_time),
            },
        ),
    )
    return window


@transaction.atomic
def availability_delete(*, actor: User, window: Availability) -> None:
    _require_may_edit_availability(actor, window.trainer)
    audit_record(
        action="availability.deleted",
        actor=actor,
        obj=window,
        changes=changes_between(
            {
                "trainer": window.trainer_id,
                "weekday": window.weekday,
                "start_time": _text(window.start_time),
                "end_time": _text(window.end_time),
            },
            {},
        ),
    )
    window.delete()


@transaction.atomic
def availability_exception_add(
    *,
    actor: User,
    trainer: Trainer,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
) -> AvailabilityException:
    """Time off (removes hours) or extra hours (adds some), between two instants."""
    _require_may_edit_availability(actor, trainer)
    if kind not in ExceptionKind.values:
        raise ValidationError({"kind": [_("Choose time off or extra hours.")]})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The end must be after the start.")]})
    exception = AvailabilityException.objects.create(
        trainer=trainer, kind=kind, starts_at=starts_at, ends_at=ends_at
    )
    audit_record(
        action="availability_exception.created",
        actor=actor,
        obj=exception,
        changes=changes_between(
            {},
            {
                "trainer": trainer.pk,
                "kind": kind,
                "starts_at": _text(starts_at),
                "ends_at": _text(ends_at),
            },
        ),
    )
    return exception


@transaction.atomic
def availability_exception_delete(*, actor: User, exception: AvailabilityException) -> None:
    """Remove an exception. Appointments already booked are left as they are."""
    _require_may_edit_availability(actor, exception.trainer)
    audit_record(
        action="availability_exception.deleted",
        actor=actor,
        obj=exception,
        changes=changes_between(
            {
                "trainer": exception.trainer_id,
                "kind": exception.kind,
                "starts_at": _text(exception.starts_at),
                "ends_at": _text(exception.ends_at),
            },
            {},
        ),
    )
    exception.delete()
