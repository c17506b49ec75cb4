"""Writes of the booking policy: the gym's settings, strikes for late cancels and no-shows,
waiving them, and the check every booking path runs before it books."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.audit.services import audit_record
from apps.billing.services import strike_fee_schedule, strike_fee_waive
from apps.crm.models import Client
from apps.scheduling.models import Appointment, ClassBooking, PolicySettings, Strike
from apps.scheduling.policies.selectors import client_block_state
from apps.tenants.selectors import gym_zone

POLICY_FIELDS = ("strike_limit", "block_days", "window_days", "appointment_late_cancel_hours")


class ClientBlocked(ValidationError):  # noqa: N818  (reads as a state, like SchedulingConflict)
    """The client has too many strikes to book; a 400 naming the field "client". Carries
    `blocked_until` for callers that show it."""

    def __init__(self, *, blocked_until: datetime) -> None:
        self.blocked_until = blocked_until
        local = timezone.localtime(blocked_until, gym_zone())
        message = _(
            "This client cannot book until %(until)s: too many late cancellations or no-shows."
        ) % {"until": date_format(local, "DATETIME_FORMAT")}
        super().__init__({"client": [ValidationError(message, code="blocked")]})


def client_check_not_blocked(*, client: Client) -> None:
    """Raise ClientBlocked when the client may not book now. Every booking service calls it,
    so the API, the portal, the dashboard and the admin refuse alike."""
    state = client_block_state(client=client)
    if state.blocked_until is not None:
        raise ClientBlocked(blocked_until=state.blocked_until)


@transaction.atomic
def policy_update(*, actor: User, **changes: Any) -> PolicySettings:
    """Owners and managers change the gym's policy (the one row is created on first save)."""
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can change the booking policy."))
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    errors = {
        name: [_("Enter a whole number of at least 1.")]
        for name, value in changes.items()
        if name != "appointment_late_cancel_hours" and (not isinstance(value, int) or value < 1)
    }
    hours = changes.get("appointment_late_cancel_hours", 0)
    if not isinstance(hours, int) or hours < 0:
        errors["appointment_late_cancel_hours"] = [_("Enter a whole number of at least 0.")]
    if errors:
        raise ValidationError(errors)
    policy, _created = PolicySettings.objects.select_for_update().get_or_create(singleton=True)
    diff = {}
    for name, value in changes.items():
        old = getattr(policy, name)
        if old != value:
            diff[name] = [old, value]
            setattr(policy, name, value)
    if diff:
        policy.updated_by = actor
        policy.save()
        audit_record(action="policy.updated", actor=actor, obj=policy, changes=diff)
    return policy


def strike_record(
    *,
    kind: str,
    appointment: Appointment | None = None,
    class_booking: ClassBooking | None = None,
    occurred_at: datetime | None = None,
    actor: User | None = None,
) -> Strike:
    """Record a late cancel or no-show of the booking's client. Called by the services that
    set those statuses, inside their transaction; recording the same event again returns the
    existing strike."""
    source = appointment if appointment is not None else class_booking
    if source is None or (appointment is not None and class_booking is not None):
        raise ValueError("Give exactly one of appointment and class_booking.")
    strike, created = Strike.objects.get_or_create(
        appointment=appointment,
        class_booking=class_booking,
        kind=kind,
        defaults={"client_id": source.client_id, "occurred_at": occurred_at or timezone.now()},
    )
    if created:
        audit_record(
            action="strike.recorded",
            actor=actor,
            obj=strike,
            changes={
                "client": [None, strike.client_id],
                "kind": [None, kind],
                "appointment": [None, appointment.pk if appointment else None],
                "class_booking": [None, class_booking.pk if class_booking else None],
            },
        )
        strike_fee_schedule(strike=strike)  # the gym's fee for it, if any (billing decides)
    return strike


def _waive(strike: Strike, *, actor: User | None, reason: str) -> Strike:
    strike.waived_at = timezone.now()
    strike.waived_by = actor
    strike.waive_reason = reason
    strike.save(update_fields=["waived_at", "waived_by", "waive_reason"])
    audit_record(
        action="strike.waived",
        actor=actor,
        obj=strike,
        changes={"waived_at": [None, strike.waived_at.isoformat()], "reason": [None, reason]},
    )
    strike_fee_waive(strike=strike, actor=actor)  # its fee is not charged, or refunded
    return strike


@transaction.atomic
def strike_waive(*, actor: User, strike: Strike, reason: str) -> Strike:
    """Owners and managers waive a strike: it stays on record (who, when, why) but no longer
    counts, so a block it caused is lifted. Waiving twice changes nothing."""
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can waive a strike."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the strike is waived.")]})
    strike = Strike.objects.select_for_update().get(pk=strike.pk)
    if strike.waived_at is not None:
        return strike
    return _waive(strike, actor=actor, reason=reason)


def strikes_waive_for(
    *,
    actor: User | None,
    reason: str,
    appointment: Appointment | None = None,
    class_booking: ClassBooking | None = None,
) -> int:
    """Waive the strikes of a booking whose late cancel or no-show was undone (staff corrected
    the status, or the client turned up after all). Called inside the caller's transaction."""
    strikes = Strike.objects.select_for_update().filter(waived_at__isnull=True)
    if appointment is not None:
        strikes = strikes.filter(appointment=appointment)
    elif class_booking is not None:
        strikes = strikes.filter(class_booking=class_booking)
    else:
        return 0
    count = 0
    for strike in strikes.order_by("pk"):
        _waive(strike, actor=actor, reason=reason)
        count += 1
    return count
