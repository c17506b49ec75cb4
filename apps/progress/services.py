"""Writes of progress: measurements, photos and a person's unit preference. Each service checks
the actor's right (through the selectors' rules), validates, writes its audit event in the same
transaction, and raises ValidationError naming the field on bad input.

Values arrive here in metric (forms and serializers convert with apps.progress.units). Audit
events name what happened and which fields changed, never the values: they are health data and
the audit log outlives them.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from apps.accounts.models import Role, UnitSystem, User
from apps.accounts.roles import HEALTH_DATA_ROLES, has_role
from apps.audit.services import audit_record
from apps.core.services import check_fields_allowed
from apps.crm import selectors as crm_selectors
from apps.crm.models import Client, ConsentKind
from apps.progress import selectors
from apps.progress.images import process_photo
from apps.progress.models import VALUE_FIELDS, BodyMeasurement, Pose, ProgressPhoto
from apps.tenants.selectors import gym_today

PHOTO_FOLDER = "progress"
# Clocks of phones and servers differ a little.
FUTURE_SLACK = timedelta(minutes=5)


def _check_may_record(actor: User, client: Client) -> None:
    """Staff who may see the client's health data, or the client themselves."""
    allowed = has_role(actor, *HEALTH_DATA_ROLES, Role.CLIENT) and (
        selectors.progress_client_list(viewer=actor).filter(pk=client.pk).exists()
    )
    if not allowed:
        raise PermissionDenied(_("You cannot record progress for this client."))


def _changed_fields(fields: dict[str, Any]) -> dict[str, Any]:
    # Which fields, not their values (see the module docstring).
    return {name: {"before": None, "after": "***"} for name in sorted(fields)}


# --- Measurements ---------------------------------------------------------------------------


def _validated(measurement: BodyMeasurement) -> None:
    # Field ranges first, then the rules with messages naming a field; the constraints last,
    # as a safety net with the database's wording.
    measurement.full_clean(exclude=["client", "recorded_by"], validate_constraints=False)
    if all(getattr(measurement, field) is None for field in VALUE_FIELDS):
        raise ValidationError(_("Enter at least one measurement."))
    systolic = measurement.blood_pressure_systolic
    diastolic = measurement.blood_pressure_diastolic
    if (systolic is None) != (diastolic is None):
        field = "blood_pressure_diastolic" if diastolic is None else "blood_pressure_systolic"
        raise ValidationError({field: [_("Enter both blood pressure numbers.")]})
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        raise ValidationError(
            {"blood_pressure_systolic": [_("The systolic number is the higher one.")]}
        )
    if measurement.measured_at and measurement.measured_at > timezone.now() + FUTURE_SLACK:
        raise ValidationError({"measured_at": [_("A measurement cannot be in the future.")]})
    measurement.validate_constraints(exclude=["client", "recorded_by"])


def _measurement_values(fields: dict[str, Any]) -> dict[str, Any]:
    allowed = {*VALUE_FIELDS, "measured_at", "notes"}
    check_fields_allowed(fields, allowed)
    return fields


@transaction.atomic
def measurement_create(
    *,
    actor: User,
    client: Client,
    measured_at: datetime | None = None,
    notes: str = "",
    **values: Decimal | int | None,
) -> BodyMeasurement:
    """Record a measurement (metric values) for `client`."""
    _check_may_record(actor, client)
    _measurement_values(dict(values))
    measurement = BodyMeasurement(
        client=client,
        measured_at=measured_at or timezone.now(),
        notes=notes or "",
        recorded_by=actor,
        **values,
    )
    _validated(measurement)
    measurement.save()
    audit_record(
        action="measurement.created",
        actor=actor,
        obj=measurement,
        changes={"client": {"before": None, "after": client.pk}},
    )
    return measurement


@transaction.atomic
def measurement_update(
    *, actor: User, measurement: BodyMeasurement, **fields: Any
) -> BodyMeasurement:
    """Change some values of a measurement (metric); a client only their own entries."""
    _check_may_record(actor, measurement.client)
    if not selectors.can_change_measurement(viewer=actor, measurement=measurement):
        raise PermissionDenied(_("Only the person who recorded it can change it."))
    fields = _measurement_values(dict(fields))
    changed = {name: value for name, value in fields.items() if getattr(measurement, name) != value}
    if not changed:
        return measurement
    if "notes" in changed:
        changed["notes"] = changed["notes"] or ""
    for name, value in changed.items():
        setattr(measurement, name, value)
    _validated(measurement)
    measurement.save()
    audit_record(
        action="measurement.updated",
        actor=actor,
        obj=measurement,
        changes=_changed_fields(changed),
    )
    return measurement


@transaction.atomic
def measurement_delete(*, actor: User, measurement: BodyMeasurement) -> None:
    _check_may_record(actor, measurement.client)
    if not selectors.can_change_measurement(viewer=actor, measurement=measurement):
        raise PermissionDenied(_("Only the person who recorded it can delete it."))
    audit_record(
        action="measurement.deleted",
        actor=actor,
        obj=measurement,
        changes={"client": {"before": measurement.client_id, "after": None}},
    )
    measurement.delete()


# --- Units ----------------------------------------------------------------------------------


@transaction.atomic
def unit_system_set(*, user: User, unit_system: str) -> User:
    """The units `user` sees and enters measurements in."""
    if unit_system not in UnitSystem.values:
        raise ValidationError({"unit_system": [_("Choose metric or imperial.")]})
    if user.unit_system != unit_system:
        before = user.unit_system
        user.unit_system = unit_system
        user.save(update_fields=["unit_system"])
        audit_record(
            action="user.updated",
            actor=user,
            obj=user,
            changes={"unit_system": {"before": before, "after": unit_system}},
        )
    return user


# --- Photos ---------------------------------------------------------------------------------


def _random_name(extension: str, suffix: str = "") -> str:
    # 128 random bits: a name cannot be guessed, and says nothing about whose photo it is.
    # The storage puts it under the gym's own prefix (its schema name).
    return f"{PHOTO_FOLDER}/{secrets.token_urlsafe(16)}{suffix}.{extension}"


def photo_files_delete(*, schema_name: str, names: list[str]) -> None:
    """Remove stored files of a gym (missing files are fine: deleting twice is harmless)."""
    with schema_context(schema_name):
        for name in names:
            if name:
                default_storage.delete(name)


def photo_files_delete_on_commit(photo: ProgressPhoto) -> None:
    """Delete `photo`'s files once the transaction that deletes its row commits (a rolled-back
    delete keeps them). Called by the post_delete signal, so a client's deletion or erasure
    removes their files too."""
    transaction.on_commit(
        partial(
            photo_files_delete,
            schema_name=connection.schema_name,
            names=[photo.file_name, photo.thumbnail_name],
        )
    )


@transaction.atomic
def photo_upload(
    *,
    actor: User,
    client: Client,
    pose: str,
    image: IO[bytes],
    taken_on: date | None = None,
    size: int | None = None,
) -> ProgressPhoto:
    """Check, re-encode (upright, no EXIF) and store a progress photo with its thumbnail.
    Staff upload a client's photos only once the client has agreed to progress photos (a
    client uploading their own photo is agreeing)."""
    _check_may_record(actor, client)
    if client.user_id != actor.pk and not crm_selectors.consent_given(
        client=client, kind=ConsentKind.PHOTOS
    ):
        raise ValidationError(
            {
                "client": [
                    _(
                        "This client has not agreed to progress photos. Record their consent "
                        "on their profile first."
                    )
                ]
            }
        )
    if pose not in Pose.values:
        raise ValidationError({"pose": [_("Choose front, side or back.")]})
    taken_on = taken_on or gym_today()
    if taken_on > gym_today():
        raise ValidationError({"taken_on": [_("A photo cannot be taken in the future.")]})
    processed = process_photo(image, size=size)
    file_name = default_storage.save(
        _random_name(processed.extension), ContentFile(processed.image)
    )
    thumbnail_name = default_storage.save(
        _random_name(processed.extension, "-thumb"), ContentFile(processed.thumbnail)
    )
    # If the row cannot be written, the files must not stay behind.
    try:
        photo = ProgressPhoto.objects.create(
            client=client,
            pose=pose,
            taken_on=taken_on,
            file_name=file_name,
            thumbnail_name=thumbnail_name,
            content_type=processed.content_type,
            width=processed.width,
            height=processed.height,
            size_bytes=len(processed.image),
            uploaded_by=actor,
        )
        audit_record(
            action="photo.uploaded",
            actor=actor,
            obj=photo,
            changes={"client": {"before": None, "after": client.pk}},
        )
    except Exception:
        photo_files_delete(schema_name=connection.schema_name, names=[file_name, thumbnail_name])
        raise
    return photo


@transaction.atomic
def photo_delete(*, actor: User, photo: ProgressPhoto) -> None:
    """Delete a photo; its files go when the transaction commits (the post_delete signal)."""
    _check_may_record(actor, photo.client)
    audit_record(
        action="photo.deleted",
        actor=actor,
        obj=photo,
        changes={"client": {"before": photo.client_id, "after": None}},
    )
    photo.delete()
