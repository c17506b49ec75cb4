"""Data rights: a person's export of everything we hold about them, and their erasure."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.privacy.models import ErasureRecord
from apps.privacy.registry import PersonalDataModel, personal_data


def _readme(*, user: User, entries: list[PersonalDataModel]) -> str:
    lines = [
        _("Your personal data"),
        "",
        _("Account: %(email)s") % {"email": user.email},
        _("Gym: %(gym)s") % {"gym": getattr(connection.tenant, "name", connection.schema_name)},
        _("Created: %(when)s (UTC)") % {"when": timezone.now().strftime("%Y-%m-%d %H:%M:%S")},
        "",
        _(
            "Each JSON file holds the records of one kind that are about you, as a list of "
            "objects with one key per stored field. Times are in UTC (ISO 8601)."
        ),
        "",
    ]
    lines += [f"- {entry.label}.json: {entry.model._meta.verbose_name_plural}" for entry in entries]
    return "\n".join(str(line) for line in lines) + "\n"


def personal_data_export(*, user: User) -> bytes:
    """A ZIP of everything about `user` in the current gym: one JSON file per registered model
    (`<app_label>.<model>.json`) and a README.txt."""
    entries = personal_data.entries()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            rows = list(entry.rows_of(user).values(*entry.fields_to_export()))
            archive.writestr(
                f"{entry.label}.json",
                json.dumps(rows, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            )
            if entry.files_of is not None:
                for name, content in entry.files_of(user):
                    archive.writestr(f"files/{name}", content)
        archive.writestr("README.txt", _readme(user=user, entries=entries))
    return buffer.getvalue()


def _anonymise(entry: PersonalDataModel, queryset: models.QuerySet[Any]) -> None:
    constants = {name: value for name, value in entry.anonymise.items() if not callable(value)}
    per_row = {name: value for name, value in entry.anonymise.items() if callable(value)}
    # queryset.update rather than save(): no model save() hooks or signals may put the old
    # values back, and append-only models (the audit log) allow no save() of an existing row.
    if not per_row:
        if constants:
            queryset.update(**constants)
        return
    for row in queryset.iterator():
        values = {name: make(row) for name, make in per_row.items()}
        entry.model._base_manager.filter(pk=row.pk).update(**constants, **values)


def _audit_erasure(*, actor: User, user: User) -> None:
    try:
        from apps.audit.services import audit_record
    except ImportError:
        return  # the audit app is not there yet
    audit_record(action="privacy.erased", actor=actor, obj=user)


@transaction.atomic
def _forget_audit_values(erased_objects: dict[str, list[str]]) -> None:
    """Audit events about the person's records keep what happened and when, but lose the
    values they recorded (a changed phone number, a name)."""
    try:
        from apps.audit.models import AuditEvent
    except ImportError:  # pragma: no cover - the audit app is always installed
        return
    about = Q(pk__in=[])
    for label, pks in erased_objects.items():
        if pks and label != AuditEvent._meta.label_lower:
            about |= Q(object_type=label, object_id__in=pks)
    AuditEvent.objects.filter(about).exclude(changes={}).update(changes={})


def personal_data_erase(*, user: User, actor: User, reason: str = "") -> ErasureRecord:
    """Delete or anonymise every registered row about `user` in the current gym; records the
    law makes us keep are anonymised, never deleted. The account itself is anonymised last, so
    rows that point at it are dealt with while it can still be found."""
    entries = personal_data.entries()
    user_entries = [entry for entry in entries if not entry.user_path]
    erased_objects: dict[str, list[str]] = {}
    for entry in [entry for entry in entries if entry.user_path] + user_entries:
        rows = entry.rows_of(user)
        erased_objects[entry.label] = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if entry.erase == "anonymise" or entry.keep_for_law:
            _anonymise(entry, rows)
        else:
            rows.delete()
    _forget_audit_values(erased_objects)
    user.refresh_from_db()
    record = ErasureRecord.objects.create(
        user=user, user_pk=user.pk, erased_by=actor, reason=reason
    )
    # After the anonymisation, so whatever the audit event copies from the user (its name,
    # say) is already the anonymised value.
    _audit_erasure(actor=actor, user=user)
    return record
