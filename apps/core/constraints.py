"""Database constraints seen as field errors: one mapping from a constraint's name to the field
it is about and the message a caller sees.

The constraints themselves live in each model's Meta and are the last word under concurrency
(two requests that both passed validation); when PostgreSQL refuses a write, the constraint it
names (psycopg's diagnostics, not the error's text) picks the field error here. Each app
registers its constraints beside their models.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError

_FIELD_ERRORS: dict[str, tuple[str, Any]] = {}


def field_error_for_constraint(name: str, *, field: str, message: Any) -> None:
    """Report a violation of the constraint `name` as `message` on `field`."""
    _FIELD_ERRORS[name] = (field, message)


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL says `error` violated, if it says one."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def as_field_error(error: IntegrityError) -> ValidationError | None:
    """The registered field error for the constraint `error` violated; None when there is none
    (an error nobody expects, which should stay an error)."""
    entry = _FIELD_ERRORS.get(violated_constraint(error) or "")
    if entry is None:
        return None
    field, message = entry
    return ValidationError({field: [message]})
