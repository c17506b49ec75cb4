"""Model fields shared by every app."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.encryption import decrypt_text, encrypt_text


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token (see apps.core.encryption); Python code sees plain `str`.

    None stays NULL and "" stays "" (neither is secret, and it keeps `blank=True` forms simple).
    Every token is different even for equal values, so the database cannot compare them: the
    only lookup is `isnull`; filtering, ordering, indexing or uniqueness on the plaintext is
    impossible by design. Keep anything you need to search in a separate, non-secret field.
    """

    description = _("Text (encrypted at rest)")

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be unique or indexed: its tokens are random.",
                    obj=self,
                    id="core.E101",
                )
            )
        return errors

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        # A clear error rather than a query that silently never matches.
        model = getattr(self, "model", None)
        where = f"{model._meta.label}.{self.name}" if model else self.name
        raise FieldError(
            f"{where} is encrypted at rest; it cannot be filtered with '{lookup_name}' "
            "(only 'isnull' works)."
        )

    def get_transform(self, lookup_name: str) -> Any:
        return None
