"""Writes of the CRM. Every service checks the actor's right, validates, writes its audit event
in the same transaction, and raises ValidationError naming the field on bad input."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record, changes_between
from apps.automations.services import record_trigger
from apps.core.services import check_fields_allowed, model_save, snapshot
from apps.crm.models import (
    Assignment,
    Certification,
    Client,
    ClientStatus,
    Consent,
    Lead,
    LeadStatus,
    Note,
    Trainer,
)
from apps.crm.parq import parq_answers_clean
from apps.crm.phones import normalise_phone, normalise_phone_fields
from apps.crm.selectors import can_edit_client, can_see_health_data, note_kinds_for
from apps.tenants.selectors import gym_today

CLIENT_CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "emergency_contact_name",
    "emergency_contact_phone",
)
CLIENT_PROFILE_FIELDS = (
    *CLIENT_CONTACT_FIELDS,
    "goals",
    "status",
    "tags",
    "source",
    "joined_on",
    "churned_on",
    "notify_by_email",
    "notify_by_sms",
)
CLIENT_HEALTH_FIELDS = ("health_notes", "parq_answers")
# What a client may change about themselves in the portal.
CLIENT_SELF_SERVICE_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "emergency_contact_name",
    "emergency_contact_phone",
    "goals",
    "notify_by_email",
    "notify_by_sms",
)
TRAINER_FIELDS = ("bio", "specialties", "hourly_rate", "currency", "calendar_colour", "is_active")


def _normalise_client_fields(fields: dict[str, Any]) -> dict[str, Any]:
    if fields.get("email"):
        fields["email"] = fields["email"].strip().lower()
    if "tags" in fields and fields["tags"] is not None:
        fields["tags"] = sorted({t.strip().lower() for t in fields["tags"] if t and t.strip()})
    for key in ("first_name", "last_name"):
        if key in fields and isinstance(fields[key], str):
            fields[key] = fields[key].strip()
    # One format for every way a number comes in (API, forms, portal, admin, import).
    normalise_phone_fields(fields)
    if "parq_answers" in fields:
        fields["parq_answers"] = parq_answers_clean(fields["parq_answers"])
    return fields


def _check_client_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    if not email:
        return
    clash = Client.objects.filter(email__iexact=email)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"email": [_("A client with this email already exists.")]})


# --- Clients --------------------------------------------------------------------------------


@transaction.atomic
def client_create(*, actor: User, **fields: Any) -> Client:
    """Add a client. Front desk may not record health data; trainers get the client assigned
    to them, so they keep seeing the client they just added."""
    if not has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER):
        raise PermissionDenied(_("Your role cannot add clients."))
    allowed = set(CLIENT_PROFILE_FIELDS)
    if has_role(actor, Role.OWNER, Role.MANAGER, Role.TRAINER):
        allowed |= set(CLIENT_HEALTH_FIELDS)
    check_fields_allowed(fields, allowed)
    fields = _normalise_client_fields(dict(fields))
    _check_client_email_free(fields.get("email", ""))
    client = Client(**fields)
    if client.status == ClientStatus.CHURNED and client.churned_on is None:
        client.churned_on = gym_today()
    model_save(client, exclude=["user"])
    audit_record(
        action="client.created",
        actor=actor,
        obj=client,
        changes=changes_between({}, snapshot(client, list(fields))),
    )
    record_trigger("client_created", client=client, key=f"client:{client.pk}")
    if has_role(actor, Role.TRAINER):
        trainer = Trainer.objects.filter(user=actor).first()
        if trainer is not None:
            assignment_create(actor=actor, client=client, trainer=trainer, is_primary=True)
    return client


@transaction.atomic
def client_update(*, actor: User, client: Client, **fields: Any) -> Client:
    """Change a client. Health fields need the right to see health data; a client changes only
    a few fields of their own profile (portal)."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if has_role(actor, Role.CLIENT):
        if client.user_id != actor.pk:
            raise PermissionDenied(_("You can only change your own profile."))
        allowed = set(CLIENT_SELF_SERVICE_FIELDS)
    elif can_edit_client(viewer=actor, client=client):
        allowed = set(CLIENT_PROFILE_FIELDS)
        if can_see_health_data(viewer=actor, client=client):
            allowed |= set(CLIENT_HEALTH_FIELDS)
    else:
        raise PermissionDenied(_("You cannot change this client."))
    check_fields_allowed(fields, allowed)
    fields = _normalise_client_fields(dict(fields))
    if fields.get("email"):
        _check_client_email_free(fields["email"], exclude_pk=client.pk)
    before = snapshot(client, list(fields))
    for field, value in fields.items():
        setattr(client, field, value)
    if "status" in fields:
        if client.status == ClientStatus.CHURNED and client.churned_on is None:
            client.churned_on = gym_today()
        elif client.status != ClientStatus.CHURNED and "churned_on" not in fields:
            client.churned_on = None
    model_save(client, exclude=["user"])
    changes = changes_between(before, snapshot(client, list(fields)))
    if changes:
        audit_record(action="client.updated", actor=actor, obj=client, changes=changes)
    return client


@transaction.atomic
def client_status_set(*, actor: User, clients: list[Client] | Any, status: str) -> int:
    """Bulk status change (admin, dashboard). Returns how many changed."""
    if status not in ClientStatus.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    changed = 0
    for client in clients:
        if client.status != status:
            client_update(actor=actor, client=client, status=status)
            changed += 1
    return changed


@transaction.atomic
def consent_record(*, actor: User, client: Client, kind: str, granted: bool) -> Consent:
    if not (can_edit_client(viewer=actor, client=client) or client.user_id == actor.pk):
        raise PermissionDenied(_("You cannot record consents for this client."))
    consent = Consent(client=client, kind=kind, granted=granted, recorded_by=actor)
    consent.full_clean(exclude=["recorded_by"])
    consent.save()
    audit_record(
        action="client.consent_recorded",
        actor=actor,
        obj=client,
        changes={kind: {"before": None, "after": granted}},
    )
    return consent


# --- Trainers -------------------------------------------------------------------------------


@transaction.atomic
def trainer_create(
    *,
    actor: User,
    email: str,
    first_name: str = "",
    last_name: str = "",
    **profile: Any,
) -> Trainer:
    """Make someone a trainer: an existing staff account, or a new account whose owner is
    emailed a link to choose their password."""
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers add trainers."))
    unknown = set(profile) - set(TRAINER_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in unknown})
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        if not email:
            raise ValidationError({"email": [_("This field is required.")]})
        candidate = User(email=email, first_name=first_name, last_name=last_name, role=Role.TRAINER)
        candidate.full_clean(exclude=["password"])
        user = User.objects.create_user(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=Role.TRAINER,
        )
        # A new account has no password yet: the trainer gets a link to choose one.
        from apps.accounts.services import welcome_email_send

        welcome_email_send(user=user, inviter=actor)
    elif user.role == Role.CLIENT:
        raise ValidationError({"email": [_("This person is a client; change their role first.")]})
    if Trainer.objects.filter(user=user).exists():
        raise ValidationError({"email": [_("This person is already a trainer.")]})
    trainer = Trainer(user=user, **profile)
    model_save(trainer)
    audit_record(
        action="trainer.created",
        actor=actor,
        obj=trainer,
        changes=changes_between({}, {"email": email, **profile}),
    )
    return trainer


def trainer_profile_ensure(*, user: User) -> Trainer:
    """Every user with the trainer role has a trainer profile (invitations, role changes)."""
    trainer, _created = Trainer.objects.get_or_create(user=user)
    return trainer


@transaction.atomic
def trainer_update(*, actor: User, trainer: Trainer, **fields: Any) -> Trainer:
    own_profile = trainer.user_id == actor.pk
    if not (is_management(actor) or own_profile):
        raise PermissionDenied(_("You cannot change this trainer."))
    allowed = set(TRAINER_FIELDS) if is_management(actor) else {"bio", "specialties"}
    check_fields_allowed(fields, allowed)
    trainer = Trainer.objects.select_for_update().get(pk=trainer.pk)
    before = snapshot(trainer, list(fields))
    for field, value in fields.items():
        setattr(trainer, field, value)
    model_save(trainer)
    changes = changes_between(before, snapshot(trainer, list(fields)))
    if changes:
        audit_record(action="trainer.updated", actor=actor, obj=trainer, changes=changes)
    return trainer


@transaction.atomic
def certification_create(*, actor: User, trainer: Trainer, **fields: Any) -> Certification:
    if not (is_management(actor) or trainer.user_id == actor.pk):
        raise PermissionDenied(_("You cannot change this trainer's certifications."))
    certification = Certification(trainer=trainer, **fields)
    certification.full_clean()
    certification.save()
    audit_record(
        action="trainer.certification_added",
        actor=actor,
        obj=trainer,
        changes=changes_between({}, fields),
    )
    return certification


@transaction.atomic
def certification_delete(*, actor: User, certification: Certification) -> None:
    if not (is_management(actor) or certification.trainer.user_id == actor.pk):
        raise PermissionDenied(_("You cannot change this trainer's certifications."))
    audit_record(
        action="trainer.certification_removed",
        actor=actor,
        obj=certification.trainer,
        changes={"certification": {"before": certification.name, "after": None}},
    )
    certification.delete()


# --- Assignments ----------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *,
    actor: User,
    client: Client,
    trainer: Trainer,
    is_primary: bool = False,
    starts_on: date | None = None,
) -> Assignment:
    """Assign a trainer to a client. A new primary trainer demotes the previous one (the old
    assignment stays, as history). Assigning twice returns the open assignment."""
    if not (
        is_management(actor) or (has_role(actor, Role.TRAINER) and trainer.user_id == actor.pk)
    ):
        raise PermissionDenied(_("Only owners and managers assign trainers."))
    if not trainer.is_active:
        raise ValidationError({"trainer": [_("This trainer is not active.")]})
    # Lock the client's open assignments: two concurrent "make primary" must not both win.
    open_assignments = list(
        Assignment.objects.select_for_update()
        .filter(client=client, ends_on__isnull=True)
        .order_by("pk")
    )
    existing = next((a for a in open_assignments if a.trainer_id == trainer.pk), None)
    if is_primary:
        for assignment in open_assignments:
            if assignment.is_primary and assignment.trainer_id != trainer.pk:
                assignment.is_primary = False
                assignment.save(update_fields=["is_primary"])
    if existing is not None:
        if is_primary and not existing.is_primary:
            existing.is_primary = True
            existing.save(update_fields=["is_primary"])
        return existing
    if not open_assignments:
        is_primary = True  # a client's only trainer is their primary trainer
    assignment = Assignment(
        client=client,
        trainer=trainer,
        is_primary=is_primary,
        starts_on=starts_on or gym_today(),
    )
    assignment.full_clean()
    assignment.save()
    audit_record(
        action="assignment.created",
        actor=actor,
        obj=assignment,
        changes={
            "client": {"before": None, "after": client.pk},
            "trainer": {"before": None, "after": trainer.pk},
            "is_primary": {"before": None, "after": is_primary},
        },
    )
    return assignment


@transaction.atomic
def assignment_end(
    *, actor: User, assignment: Assignment, ends_on: date | None = None
) -> Assignment:
    """Unassign: the assignment gets an end date and stays as history."""
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers unassign trainers."))
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.ends_on is not None:
        return assignment
    assignment.ends_on = ends_on or gym_today()
    if assignment.ends_on < assignment.starts_on:
        raise ValidationError({"ends_on": [_("The end cannot be before the start.")]})
    was_primary = assignment.is_primary
    assignment.is_primary = False
    assignment.save(update_fields=["ends_on", "is_primary"])
    if was_primary:
        # The longest-serving remaining trainer becomes primary.
        successor = (
            Assignment.objects.select_for_update()
            .filter(client_id=assignment.client_id, ends_on__isnull=True)
            .order_by("starts_on", "pk")
            .first()
        )
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
    audit_record(
        action="assignment.ended",
        actor=actor,
        obj=assignment,
        changes={"ends_on": {"before": None, "after": assignment.ends_on.isoformat()}},
    )
    return assignment


# --- Notes ----------------------------------------------------------------------------------


@transaction.atomic
def note_create(*, actor: User, client: Client, kind: str, body: str) -> Note:
    if kind not in note_kinds_for(viewer=actor) or not can_see_health_data(
        viewer=actor, client=client
    ):
        raise PermissionDenied(_("You cannot add notes for this client."))
    note = Note(client=client, author=actor, kind=kind, body=(body or "").strip())
    note.full_clean(exclude=["author"])
    note.save()
    audit_record(
        action="note.created",
        actor=actor,
        obj=note,
        changes={"kind": {"before": None, "after": kind}, "body": {"before": None, "after": "…"}},
    )
    return note


@transaction.atomic
def note_update(*, actor: User, note: Note, body: str) -> Note:
    if not (note.author_id == actor.pk or is_management(actor)):
        raise PermissionDenied(_("Only the author or a manager can change a note."))
    note.body = (body or "").strip()
    note.full_clean(exclude=["author"])
    note.save(update_fields=["body", "updated_at"])
    audit_record(action="note.updated", actor=actor, obj=note)
    return note


@transaction.atomic
def note_delete(*, actor: User, note: Note) -> None:
    if not (note.author_id == actor.pk or is_management(actor)):
        raise PermissionDenied(_("Only the author or a manager can delete a note."))
    audit_record(action="note.deleted", actor=actor, obj=note)
    note.delete()


# --- Leads ----------------------------------------------------------------------------------


@transaction.atomic
def lead_capture(
    *,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    message: str = "",
    marketing_consent: bool = False,
    source: str = "website",
) -> Lead:
    """A prospect from the public join form (no actor: anonymous)."""
    lead = Lead(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip().lower(),
        phone=normalise_phone(phone),
        message=message.strip(),
        marketing_consent=marketing_consent,
        source=source,
    )
    if not lead.email and not lead.phone:
        raise ValidationError({"email": [_("Leave an email address or a phone number.")]})
    lead.full_clean(exclude=["client"])
    lead.save()
    audit_record(action="lead.captured", obj=lead)
    record_trigger("lead_created", lead=lead, key=f"lead:{lead.pk}")
    return lead


@transaction.atomic
def lead_update_status(*, actor: User, lead: Lead, status: str) -> Lead:
    if not has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        raise PermissionDenied(_("Only managers and front desk handle leads."))
    if status not in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.LOST):
        raise ValidationError({"status": [_("Convert a lead with the convert action.")]})
    before = lead.status
    lead.status = status
    lead.save(update_fields=["status"])
    audit_record(
        action="lead.updated",
        actor=actor,
        obj=lead,
        changes={"status": {"before": before, "after": status}},
    )
    return lead


@transaction.atomic
def lead_convert(*, actor: User, lead: Lead, trainer: Trainer | None = None) -> Client:
    """Turn a lead into a client (on trial) in one step; converting twice returns the same
    client, and a lead whose email already belongs to a client is linked to that client."""
    if not has_role(actor, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        raise PermissionDenied(_("Only managers and front desk convert leads."))
    if trainer is not None and not is_management(actor):
        raise PermissionDenied(_("Only owners and managers assign trainers."))
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.client_id is not None:
        return lead.client
    client = Client.objects.filter(email__iexact=lead.email).first() if lead.email else None
    if client is None:
        client = client_create(
            actor=actor,
            first_name=lead.first_name,
            last_name=lead.last_name,
            email=lead.email,
            phone=lead.phone,
            goals=lead.message,
            status=ClientStatus.TRIAL,
            source=lead.source or "lead",
        )
    if lead.marketing_consent:
        consent_record(actor=actor, client=client, kind="marketing_email", granted=True)
    lead.client = client
    lead.status = LeadStatus.CONVERTED
    lead.converted_at = timezone.now()
    lead.save(update_fields=["client", "status", "converted_at"])
    if trainer is not None:
        assignment_create(actor=actor, client=client, trainer=trainer, is_primary=True)
    audit_record(
        action="lead.converted",
        actor=actor,
        obj=lead,
        changes={"client": {"before": None, "after": client.pk}},
    )
    return client


def client_profile_ensure(*, user: User) -> Client:
    """Every user with the client role has a client record: an existing one with their email
    (added by staff before they had a login) is linked, else one is created."""
    client = Client.objects.filter(user=user).first()
    if client is not None:
        return client
    client = (
        Client.objects.select_for_update()
        .filter(user__isnull=True, email__iexact=user.email)
        .first()
    )
    created = client is None
    if client is None:
        client = Client(
            first_name=user.first_name or user.email.split("@")[0],
            last_name=user.last_name,
            email=user.email,
        )
    client.user = user
    client.save()
    if created:
        # A client who arrives through the portal (an invitation, a first sign-in) is as new
        # to the gym as one staff add: the same occurrence key, so the rules run once.
        record_trigger("client_created", client=client, key=f"client:{client.pk}")
    return client


def profile_ensure_for_role(*, user: User) -> None:
    """Called when someone joins or changes role: trainers and clients get their CRM record."""
    if user.role == Role.TRAINER:
        trainer_profile_ensure(user=user)
    elif user.role == Role.CLIENT:
        client_profile_ensure(user=user)


# --- Deleting a client ---------------------------------------------------------------------


@transaction.atomic
def client_delete(*, actor: User, client: Client) -> None:
    """Delete a client record made by mistake (a duplicate, a test entry): owners and managers
    only. Someone with a portal login also has an account and data in other apps, so they are
    erased through apps.privacy, which anonymises what must be kept; never deleted from here."""
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers delete clients."))
    if client.user_id is not None:
        raise ValidationError(
            {
                "user": [
                    _(
                        "This client has a portal login: erase their data from the privacy "
                        "page instead."
                    )
                ]
            }
        )
    audit_record(
        action="client.deleted",
        actor=actor,
        obj=client,
        # The id only: a deleted client's name or email must not live on in the append-only log.
        changes={"client": {"before": client.pk, "after": None}},
    )
    try:
        with transaction.atomic():
            client.delete()
    except ProtectedError as exc:
        # Records that must outlive the client (bookings, invoices) point at it.
        raise ValidationError(
            _("This client has history that must be kept: mark them churned instead.")
        ) from exc


@transaction.atomic
def client_tag_add(*, actor: User, clients: Iterable[Client], tag: str) -> int:
    """Add `tag` to each of `clients` (the client list's bulk action), each change audited as
    any edit. Returns how many clients changed."""
    tag = tag.strip().lower()
    if not tag:
        raise ValidationError({"tag": [_("Give a tag.")]})
    changed = 0
    for client in clients:
        if tag not in client.tags:
            client_update(actor=actor, client=client, tags=[*client.tags, tag])
            changed += 1
    return changed


@transaction.atomic
def client_trainer_assign(*, actor: User, clients: Iterable[Client], trainer: Trainer) -> int:
    """Assign `trainer` to each of `clients` (the client list's bulk action); clients who
    already have them keep their assignment. Returns how many were newly assigned."""
    assigned = 0
    for client in clients:
        if not Assignment.objects.filter(
            client=client, trainer=trainer, ends_on__isnull=True
        ).exists():
            assignment_create(actor=actor, client=client, trainer=trainer)
            assigned += 1
    return assigned
