"""Fernet encryption for values we keep at rest (OAuth tokens, health notes).

Keys come from the setting FIELD_ENCRYPTION_KEYS, newest first. New values are always encrypted
with the newest key; every listed key can still decrypt, so a key is rotated by putting the new
one in front, running `manage.py reencrypt_fields`, and only then dropping the old one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "InvalidToken",
    "decrypt_text",
    "encrypt_text",
    "reencrypt_token",
    "token_uses_newest_key",
]


def _configured_keys() -> tuple[str, ...]:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ())
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: set it to one or more Fernet keys, newest first "
            '(generate one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`).'
        )
    return keys


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, ...]:
    # Cached by the keys themselves, so a settings change (override_settings in tests, a reload)
    # is picked up without any invalidation.
    try:
        return tuple(Fernet(key) for key in keys)
    except (ValueError, TypeError) as error:
        # Never echo the key itself into logs.
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from error


def _multifernet() -> MultiFernet:
    return MultiFernet(list(_fernets(_configured_keys())))


def validate_keys(keys: list[str] | tuple[str, ...]) -> None:
    """Raise ImproperlyConfigured if any of `keys` is not a usable Fernet key."""
    _fernets(tuple(keys))


def encrypt_text(value: str) -> str:
    """Encrypt `value` with the newest key; the token is ASCII text."""
    return _multifernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a token made with any configured key. Raises InvalidToken if none fits."""
    return _multifernet().decrypt(token.encode("ascii")).decode("utf-8")


def reencrypt_token(token: str) -> str:
    """The same plaintext encrypted again with the newest key (MultiFernet.rotate)."""
    return _multifernet().rotate(token.encode("ascii")).decode("ascii")


def token_uses_newest_key(token: str) -> bool:
    """Whether the newest key alone decrypts `token`, i.e. rotating it would change nothing."""
    newest = _fernets(_configured_keys())[0]
    try:
        newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True
