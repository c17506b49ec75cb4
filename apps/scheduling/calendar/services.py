"""Writes made from the staff calendar: moving an appointment (drag and drop, or the move
form). The database's exclusion constraints still have the last word on double booking; the
pre-check only names the appointment in the way."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record
from apps.scheduling.appointments.selectors import is_available
from apps.scheduling.appointments.services import check_no_clash, save_or_conflict
from apps.scheduling.models import Appointment, AppointmentStatus


def _check_may_move(*, actor: User, appointment: Appointment) -> None:
    if has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return
    if has_role(actor, Role.TRAINER) and appointment.trainer.user_id == actor.pk:
        return
    raise PermissionDenied(_("You cannot move this appointment."))


@transaction.atomic
def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: datetime,
    ends_at: datetime | None = None,
    override_availability: bool = False,
) -> Appointment:
    """Move a booked session to `starts_at` (keeping its length unless `ends_at` is given).
    Inside the trainer's working hours unless an owner or manager overrides; a clash raises
    SchedulingConflict."""
    _check_may_move(actor=actor, appointment=appointment)
    if override_availability and not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can book outside working hours."))
    # Lock the row: two people dragging the same session at once move it one after the other.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("trainer", "room")
        .get(pk=appointment.pk)
    )
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError({"status": [_("Only a booked appointment can be moved.")]})
    if timezone.is_naive(starts_at) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ValidationError({"starts_at": [_("Give a time zone.")]})
    if ends_at is None:
        ends_at = starts_at + (appointment.ends_at - appointment.starts_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The end must be after the start.")]})
    if not override_availability and not is_available(
        trainer=appointment.trainer, starts_at=starts_at, ends_at=ends_at
    ):
        raise ValidationError(
            {"starts_at": [_("The trainer does not work at that time.")]}, code="unavailable"
        )
    old_start, old_end = appointment.starts_at, appointment.ends_at
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    check_no_clash(appointment)
    save_or_conflict(appointment, update_fields=["starts_at", "ends_at", "updated_at"])
    audit_record(
        action="appointment.rescheduled",
        actor=actor,
        obj=appointment,
        changes={
            "starts_at": [old_start.isoformat(), starts_at.isoformat()],
            "ends_at": [old_end.isoformat(), ends_at.isoformat()],
            "override_availability": [None, override_availability],
        },
    )
    return appointment
