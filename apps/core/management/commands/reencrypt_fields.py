"""Re-encrypt every EncryptedTextField value with the newest key, in every schema.

Run after putting a new key first in FIELD_ENCRYPTION_KEYS and before removing the old one.
Idempotent: values already under the newest key are left alone, so a run that stopped halfway
can simply be started again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, router, transaction
from django.db.models.functions import Cast
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from apps.core.encryption import reencrypt_token, token_uses_newest_key
from apps.core.fields import EncryptedTextField
from apps.tenants.selectors import gym_list


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every concrete model with its own (not inherited) encrypted columns."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            field
            for field in model._meta.local_concrete_fields
            if isinstance(field, EncryptedTextField)
        ]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-encrypt all encrypted model fields with the newest FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        targets = encrypted_models()
        if not targets:
            self.stdout.write("No encrypted fields.")
            return
        for schema_name, context in self._schemas():
            with context:
                for model, fields in targets:
                    if not router.allow_migrate_model(connection.alias, model):
                        continue  # this model has no table in this schema
                    rotated, current = self._reencrypt_model(model, fields, batch_size)
                    self.stdout.write(
                        f"{schema_name}: {model._meta.label}: {rotated} rows re-encrypted, "
                        f"{current} already current"
                    )
        self.stdout.write(self.style.SUCCESS("Done."))

    def _schemas(self) -> Iterator[tuple[str, AbstractContextManager[Any]]]:
        public = get_public_schema_name()
        yield public, schema_context(public)
        # New gyms are cloned from the template schema: any token left there under an old key
        # would turn unreadable in every future gym once that key is dropped.
        template = settings.TENANT_BASE_SCHEMA
        if template and schema_exists(template):
            yield template, schema_context(template)
        for gym in gym_list().order_by("schema_name"):
            yield gym.schema_name, schema_context(gym.schema_name)

    def _reencrypt_model(
        self, model: type[models.Model], fields: list[EncryptedTextField], batch_size: int
    ) -> tuple[int, int]:
        # Raw tokens: a Cast to plain text skips the field's decryption on the way out.
        raw = {f"_raw_{field.attname}": Cast(field.attname, models.TextField()) for field in fields}
        rotated = current = 0
        last_pk = None
        while True:
            # Keyset batches, each locked in its own transaction: a row the app changes while we
            # run is never overwritten with its older value, and no lock is held for long.
            with transaction.atomic():
                queryset = model._base_manager.order_by("pk").select_for_update()
                if last_pk is not None:
                    queryset = queryset.filter(pk__gt=last_pk)
                rows = list(queryset.annotate(**raw).values_list("pk", *raw)[:batch_size])
                if not rows:
                    return rotated, current
                last_pk = rows[-1][0]
                changed = []
                for pk, *tokens in rows:
                    updates = {
                        field.attname: reencrypt_token(token)
                        for field, token in zip(fields, tokens, strict=True)
                        if token and not token_uses_newest_key(token)
                    }
                    if not updates:
                        current += 1
                        continue
                    obj = model(pk=pk)
                    for attname, token in updates.items():
                        # An expression, so bulk_update writes the new token as is instead of
                        # passing it through the field, which would encrypt it a second time.
                        setattr(obj, attname, models.Value(token, output_field=models.TextField()))
                    changed.append((obj, list(updates)))
                for attnames in {tuple(names) for _obj, names in changed}:
                    batch = [obj for obj, names in changed if tuple(names) == attnames]
                    model._base_manager.bulk_update(batch, list(attnames))
                rotated += len(changed)
