"""Writes of 1:1 sessions (appointments). Every service checks the actor's right, validates,
and writes its audit event in the same transaction. Double booking is finally refused by the
database's exclusion constraints; the pre-check only gives the common case a clear message."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record
from apps.automations.services import record_trigger
from apps.billing.models import CreditKind
from apps.billing.services import (
    appointment_ref,
    entitlement_return,
    entitlement_sources,
    entitlement_take,
)
from apps.crm.models import Assignment, Client, Trainer
from apps.scheduling.appointments.selectors import is_available, overlapping_appointments
from apps.scheduling.models import (
    BLOCKING_STATUSES,
    Appointment,
    AppointmentStatus,
    Room,
    StrikeKind,
)
from apps.scheduling.policies.selectors import policy_get
from apps.scheduling.policies.services import (
    client_check_not_blocked,
    strike_record,
    strikes_waive_for,
)

# Statuses that count against the client under the gym's policy.
STRIKE_KINDS = {
    AppointmentStatus.LATE_CANCELLED: StrikeKind.LATE_CANCEL,
    AppointmentStatus.NO_SHOW: StrikeKind.NO_SHOW,
}
# Staff may check a client in from this long before the start (the kiosk has its own window).
CHECK_IN_OPENS = timedelta(minutes=60)
CHECK_IN_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)


class SchedulingConflict(Exception):  # noqa: N818  (the name the API and callers use)
    """The trainer or the room is already booked at that time. `field` is "trainer" or
    "room"; `other` is the appointment in the way (None when the database refused a race we
    could no longer see)."""

    def __init__(self, *, field: str, other: Appointment | None) -> None:
        self.field = field
        self.other = other
        if other is not None:
            times = {
                "start": other.starts_at.isoformat(),
                "end": other.ends_at.isoformat(),
            }
            if field == "room":
                message = _("The room is already booked from %(start)s to %(end)s.") % times
            else:
                message = _("The trainer is already booked from %(start)s to %(end)s.") % times
        elif field == "room":
            message = _("The room is already booked at that time.")
        else:
            message = _("The trainer is already booked at that time.")
        self.message = message
        super().__init__(message)


def _is_assigned(*, trainer: Trainer, client: Client) -> bool:
    return Assignment.objects.filter(trainer=trainer, client=client, ends_on__isnull=True).exists()


def _check_may_book(*, actor: User, trainer: Trainer, client: Client) -> None:
    if has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return
    if has_role(actor, Role.TRAINER) and trainer.user_id == actor.pk:
        if _is_assigned(trainer=trainer, client=client):
            return
        raise PermissionDenied(_("You can book only the clients assigned to you."))
    if has_role(actor, Role.CLIENT) and client.user_id == actor.pk:
        if _is_assigned(trainer=trainer, client=client):
            return
        raise PermissionDenied(_("You can book only with your own trainers."))
    raise PermissionDenied(_("Your role cannot book this appointment."))


# The exclusion constraints that refuse a double booking, and the field each names.
CONSTRAINT_FIELDS = {
    "scheduling_trainer_not_double_booked": "trainer",
    "scheduling_room_not_double_booked": "room",
}


def first_clash(appointment: Appointment) -> SchedulingConflict | None:
    """The conflict naming the appointment (other than this one) that holds the trainer's,
    then the room's, time; None when there is none."""
    window = {"starts_at": appointment.starts_at, "ends_at": appointment.ends_at}
    checks = [("trainer", overlapping_appointments(**window, trainer=appointment.trainer))]
    if appointment.room_id is not None:
        checks.append(("room", overlapping_appointments(**window, room=appointment.room)))
    for field, overlapping in checks:
        other = overlapping.exclude(pk=appointment.pk).first()
        if other is not None:
            return SchedulingConflict(field=field, other=other)
    return None


def check_no_clash(appointment: Appointment) -> None:
    """Raise SchedulingConflict naming the appointment in the way, if any."""
    clash = first_clash(appointment)
    if clash is not None:
        raise clash


def save_or_conflict(appointment: Appointment, *, update_fields: list[str] | None = None) -> None:
    """Save; a concurrent booking that won the race shows up as the exclusion constraint's
    IntegrityError, which becomes a SchedulingConflict too."""
    try:
        with transaction.atomic():
            appointment.save(update_fields=update_fields)
    except IntegrityError as error:
        field = next((f for name, f in CONSTRAINT_FIELDS.items() if name in str(error)), None)
        if field is None:
            raise
        raise first_clash(appointment) or SchedulingConflict(field=field, other=None) from error


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    trainer: Trainer,
    client: Client,
    starts_at: datetime,
    ends_at: datetime,
    room: Room | None = None,
    video_link: str = "",
    notes: str = "",
    override_availability: bool = False,
    override_membership: bool = False,
) -> Appointment:
    """Book a 1:1 session. Inside the trainer's working hours unless a manager overrides; a
    client blocked by the gym's policy cannot be booked. When the gym requires memberships,
    the session uses an allowance or a session credit (a manager may override)."""
    _check_may_book(actor=actor, trainer=trainer, client=client)
    client_check_not_blocked(client=client)
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = [_("Give a time zone.")]
    if timezone.is_naive(ends_at):
        errors["ends_at"] = [_("Give a time zone.")]
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    if not errors and has_role(actor, Role.CLIENT) and starts_at < timezone.now():
        errors["starts_at"] = [_("Choose a time in the future.")]
    if errors:
        raise ValidationError(errors)
    if override_availability and not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can book outside working hours."))
    if not override_availability and not is_available(
        trainer=trainer, starts_at=starts_at, ends_at=ends_at
    ):
        raise ValidationError(
            {"starts_at": [_("The trainer does not work at that time.")]}, code="unavailable"
        )
    appointment = Appointment(
        trainer=trainer,
        client=client,
        room=room,
        video_link=video_link,
        notes=notes,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
    )
    # Read before the spot is taken: a client with nothing valid is refused without waiting
    # for any lock.
    sources = entitlement_sources(
        client=client, kind=CreditKind.SESSION, starts_at=starts_at, override=override_membership
    )
    check_no_clash(appointment)
    save_or_conflict(appointment)
    audit_record(
        action="appointment.booked",
        actor=actor,
        obj=appointment,
        changes={
            "trainer": [None, trainer.pk],
            "client": [None, client.pk],
            "room": [None, room.pk if room else None],
            "starts_at": [None, starts_at.isoformat()],
            "ends_at": [None, ends_at.isoformat()],
            "override_availability": [None, override_availability],
        },
    )
    if sources.required:
        # After the spot (the exclusion constraints held the trainer's time), as for classes,
        # and last: a credit's row stays locked until the booking commits.
        entitlement_take(
            actor=actor,
            client=client,
            kind=CreditKind.SESSION,
            booking_ref=appointment_ref(appointment.pk),
            starts_at=starts_at,
            override=override_membership,
            sources=sources,
        )
    # After the commit: a rolled-back booking confirms nothing.
    transaction.on_commit(partial(_notify_booked, appointment))
    return appointment


def _notify_booked(appointment: Appointment) -> None:
    """Confirm a session to the client through the notification service."""
    from django.utils import translation
    from django.utils.formats import date_format

    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify
    from apps.tenants.branding import email_language
    from apps.tenants.selectors import gym_zone

    client = appointment.client
    local = timezone.localtime(appointment.starts_at, gym_zone())
    with translation.override(email_language(client.user)):
        what = _("a session with %(trainer)s") % {"trainer": appointment.trainer}
        when = f"{date_format(local, 'DATE_FORMAT')} {local:%H:%M}"
    notify(
        kind="booking_confirmed",
        recipient=client,
        context={"what": what, "when": when},
        event_key=f"booking_confirmed:appointment:{appointment.pk}",
        url="/portal/",
        channels=client_channels(client),
    )


def _check_may_change(*, actor: User, appointment: Appointment, as_client: bool) -> None:
    if has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return
    if has_role(actor, Role.TRAINER) and appointment.trainer.user_id == actor.pk:
        return
    if as_client and has_role(actor, Role.CLIENT) and appointment.client.user_id == actor.pk:
        return
    raise PermissionDenied(_("You cannot change this appointment."))


@transaction.atomic
def appointment_cancel(
    *, actor: User, appointment: Appointment, waive_late: bool = False
) -> Appointment:
    """Cancel a booked session. Inside the late-cancel window it counts as a late cancel,
    unless staff waive it."""
    _check_may_change(actor=actor, appointment=appointment, as_client=True)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError({"status": [_("Only a booked appointment can be cancelled.")]})
    if waive_late and not has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        raise PermissionDenied(_("Only staff at the desk or managers can waive a late cancel."))
    window = timedelta(hours=policy_get().appointment_late_cancel_hours)
    now = timezone.now()
    late = now > appointment.starts_at - window and not waive_late
    old = appointment.status
    appointment.status = AppointmentStatus.LATE_CANCELLED if late else AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status", "updated_at"])
    audit_record(
        action="appointment.cancelled",
        actor=actor,
        obj=appointment,
        changes={"status": [old, appointment.status]},
    )
    if late:
        strike_record(
            kind=StrikeKind.LATE_CANCEL,
            appointment=appointment,
            occurred_at=now,
            actor=actor,
        )
    else:
        entitlement_return(actor=actor, booking_ref=appointment_ref(appointment.pk))
    return appointment


@transaction.atomic
def appointment_set_status(*, actor: User, appointment: Appointment, status: str) -> Appointment:
    """Staff mark a session completed, a no-show, or put a cancelled one back on the books
    (which the exclusion constraints may refuse)."""
    _check_may_change(actor=actor, appointment=appointment, as_client=False)
    if status not in AppointmentStatus.values:
        raise ValidationError({"status": [_("Choose a valid status.")]})
    old = appointment.status
    if old == status:
        return appointment
    appointment.status = status
    if status in BLOCKING_STATUSES and old not in BLOCKING_STATUSES:
        check_no_clash(appointment)
    save_or_conflict(appointment)
    audit_record(
        action="appointment.status_set",
        actor=actor,
        obj=appointment,
        changes={"status": [old, status]},
    )
    _sync_strikes(actor=actor, appointment=appointment, old=old)
    return appointment


def _sync_strikes(*, actor: User, appointment: Appointment, old: str) -> None:
    """A status that counts against the client records a strike; correcting it away waives
    the strike it had recorded."""
    if old in STRIKE_KINDS and appointment.status not in STRIKE_KINDS:
        strikes_waive_for(
            actor=actor,
            appointment=appointment,
            reason=_("Status corrected to %(status)s.") % {"status": appointment.status},
        )
    kind = STRIKE_KINDS.get(appointment.status)
    if kind is not None:
        # A no-show counts from the session's start, not from when staff noticed.
        occurred_at = (
            min(appointment.starts_at, timezone.now())
            if kind == StrikeKind.NO_SHOW
            else timezone.now()
        )
        strike_record(
            kind=kind,
            appointment=appointment,
            occurred_at=occurred_at,
            actor=actor,
        )


@transaction.atomic
def appointment_check_in(
    *, actor: User, appointment: Appointment, via_kiosk: bool = False
) -> Appointment:
    """Record that the client arrived: the session becomes completed with `checked_in_at`.
    Front desk, managers and owners check anyone in, a trainer their own sessions. Checking in
    twice records once. A no-show marked too early is undone (and its strike waived)."""
    is_own_trainer = has_role(actor, Role.TRAINER) and appointment.trainer.user_id == actor.pk
    if not (has_role(actor, *CHECK_IN_ROLES) or is_own_trainer):
        raise PermissionDenied(_("You cannot check clients in to this session."))
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.checked_in_at is not None or appointment.status == AppointmentStatus.COMPLETED:
        # Already recorded (or completed by staff): nothing to add.
        return appointment
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW):
        raise ValidationError({"status": [_("Only a booked session can be checked in.")]})
    now = timezone.now()
    if now < appointment.starts_at - CHECK_IN_OPENS:
        raise ValidationError({"starts_at": [_("Check-in opens an hour before the start.")]})
    old = appointment.status
    appointment.status = AppointmentStatus.COMPLETED
    appointment.checked_in_at = now
    save_or_conflict(appointment)
    audit_record(
        action="appointment.checked_in",
        actor=actor,
        obj=appointment,
        changes={
            "status": [old, appointment.status],
            "checked_in_at": [None, now.isoformat()],
            "via_kiosk": [None, via_kiosk],
        },
    )
    record_trigger(
        "checked_in", client_id=appointment.client_id, key=f"appointment:{appointment.pk}"
    )
    _sync_strikes(actor=actor, appointment=appointment, old=old)
    return appointment
