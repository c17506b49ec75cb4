"""Encryption at rest: the column holds Fernet tokens, and key rotation keeps every value
readable. ErasureRecord.reason (apps.privacy) is the real encrypted field under test."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context, tenant_context

from apps.core.checks import field_encryption_keys_check
from apps.core.encryption import (
    InvalidToken,
    decrypt_text,
    encrypt_text,
    reencrypt_token,
    token_uses_newest_key,
)
from apps.core.fields import EncryptedTextField
from apps.privacy.models import ErasureRecord

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()
SECRET = "Knee surgery in 2023 — no deep squats"


def raw_reason(pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM privacy_erasurerecord WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def make_record(reason: str) -> ErasureRecord:
    return ErasureRecord.objects.create(user_pk=1, reason=reason)


def test_encrypt_and_decrypt_round_trip():
    token = encrypt_text(SECRET)
    assert token.startswith("gAAAA")
    assert SECRET not in token
    assert decrypt_text(token) == SECRET
    # Random IV: equal plaintexts give different tokens.
    assert encrypt_text(SECRET) != token


def test_tampered_token_is_refused():
    token = encrypt_text(SECRET)
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(InvalidToken):
        decrypt_text(tampered)


def test_column_holds_ciphertext_not_plaintext(in_gym_a):
    record = make_record(SECRET)
    raw = raw_reason(record.pk)
    assert raw.startswith("gAAAA")
    assert SECRET not in raw
    assert "Knee" not in raw
    assert ErasureRecord.objects.get(pk=record.pk).reason == SECRET
    assert ErasureRecord.objects.values_list("reason", flat=True).get(pk=record.pk) == SECRET


def test_none_and_empty_are_stored_as_is(in_gym_a):
    record = make_record("")
    assert raw_reason(record.pk) == ""
    assert ErasureRecord.objects.get(pk=record.pk).reason == ""
    # update() and bulk_update() encrypt too.
    ErasureRecord.objects.filter(pk=record.pk).update(reason=SECRET)
    assert raw_reason(record.pk).startswith("gAAAA")
    record.reason = "changed"
    ErasureRecord.objects.bulk_update([record], ["reason"])
    assert raw_reason(record.pk).startswith("gAAAA")
    assert ErasureRecord.objects.get(pk=record.pk).reason == "changed"


def test_only_isnull_lookups_are_allowed(in_gym_a):
    make_record(SECRET)
    assert ErasureRecord.objects.filter(reason__isnull=False).count() == 1
    for lookup in ("reason", "reason__contains", "reason__icontains", "reason__startswith"):
        with pytest.raises(FieldError, match="encrypted"):
            ErasureRecord.objects.filter(**{lookup: SECRET}).count()


def test_field_deconstructs_for_migrations():
    field = ErasureRecord._meta.get_field("reason")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "apps.core.fields.EncryptedTextField"
    assert isinstance(EncryptedTextField(*args, **kwargs), EncryptedTextField)


def test_missing_keys_fail_loudly_at_first_use():
    with override_settings(FIELD_ENCRYPTION_KEYS=[]), pytest.raises(ImproperlyConfigured):
        encrypt_text(SECRET)
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]),
        pytest.raises(ImproperlyConfigured),
    ):
        encrypt_text(SECRET)


def test_system_check_requires_keys_outside_debug():
    with override_settings(FIELD_ENCRYPTION_KEYS=[], DEBUG=False):
        assert [error.id for error in field_encryption_keys_check()] == ["core.E001"]
    with override_settings(FIELD_ENCRYPTION_KEYS=[], DEBUG=True):
        assert field_encryption_keys_check() == []
    with override_settings(FIELD_ENCRYPTION_KEYS=["short"], DEBUG=True):
        assert [error.id for error in field_encryption_keys_check()] == ["core.E002"]
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_2, KEY_1], DEBUG=False):
        assert field_encryption_keys_check() == []


def test_reencrypt_token_moves_a_value_to_the_newest_key():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_1]):
        token = encrypt_text(SECRET)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_2, KEY_1]):
        assert not token_uses_newest_key(token)
        rotated = reencrypt_token(token)
        assert token_uses_newest_key(rotated)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_2]):
        assert decrypt_text(rotated) == SECRET
        with pytest.raises(InvalidToken):
            decrypt_text(token)


def test_rotation_keeps_every_value_readable(gym_a, gym_b):
    values = {}
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_1]):
        for context, label in (
            (tenant_context(gym_a), "alpha"),
            (tenant_context(gym_b), "bravo"),
            (schema_context("public"), "public"),
        ):
            with context:
                for n in range(3):
                    record = make_record(f"{label} secret {n}")
                    values[(label, record.pk)] = (record.reason, raw_reason(record.pk))
                empty = make_record("")
                values[(label, empty.pk)] = ("", "")
    contexts = {
        "alpha": lambda: tenant_context(gym_a),
        "bravo": lambda: tenant_context(gym_b),
        "public": lambda: schema_context("public"),
    }

    def read_all() -> dict[tuple[str, int], tuple[str, str | None]]:
        found = {}
        for label, pk in values:
            with contexts[label]():
                found[(label, pk)] = (ErasureRecord.objects.get(pk=pk).reason, raw_reason(pk))
        return found

    # The new key first, the old one still listed: everything stays readable.
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_2, KEY_1]):
        before = read_all()
        assert {key: plain for key, (plain, _raw) in before.items()} == {
            key: plain for key, (plain, _raw) in values.items()
        }
        out = StringIO()
        call_command("reencrypt_fields", "--batch-size", "2", stdout=out)
        output = out.getvalue()
        assert "alpha: privacy.ErasureRecord: 3 rows re-encrypted" in output
        assert "bravo: privacy.ErasureRecord: 3 rows re-encrypted" in output
        assert "public: privacy.ErasureRecord: 3 rows re-encrypted" in output

        # Idempotent: a second run finds nothing left to do.
        out = StringIO()
        call_command("reencrypt_fields", stdout=out)
        assert "0 rows re-encrypted" in out.getvalue()
        assert " 1 rows re-encrypted" not in out.getvalue()

    # The old key gone: every value is still readable, and every token changed.
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_2]):
        after = read_all()
    for key, (plain, raw) in values.items():
        assert after[key][0] == plain
        if plain:
            assert after[key][1].startswith("gAAAA")
            assert after[key][1] != raw
        else:
            assert after[key][1] == ""
