"""What every app's forms share."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form has
    that field (`aliases` maps the service's field names to the form's), else form-wide."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = (aliases or {}).get(field, field)
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)
