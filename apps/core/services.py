"""Plumbing every app's services share: a model saved with its errors named by field, and the
values an update starts from (apps.audit.services.changes_between compares them after)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from apps.core.constraints import as_field_error


def check_fields_allowed(fields: Iterable[str], allowed: Iterable[str]) -> None:
    """A ValidationError naming every field of `fields` the caller may not set."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({field: [_("You cannot set this field.")] for field in unknown})


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields` (the audit log stores related objects as their ids)."""
    return {field: getattr(instance, field) for field in fields}


def model_save(
    instance: models.Model,
    *,
    exclude: Iterable[str] | None = None,
    update_fields: Iterable[str] | None = None,
    validate_constraints: bool = True,
) -> None:
    """Model validation (field errors by name), then save in a savepoint; a constraint lost to a
    concurrent write becomes the same field error (apps.core.constraints)."""
    instance.full_clean(
        exclude=list(exclude) if exclude is not None else None,
        validate_constraints=validate_constraints,
    )
    try:
        with transaction.atomic():
            instance.save(update_fields=list(update_fields) if update_fields else None)
    except IntegrityError as error:
        field_error = as_field_error(error)
        if field_error is None:
            raise
        raise field_error from error
