"""System checks of apps.core. `manage.py check`, `migrate` and the server run them at start, so a
misconfigured deploy fails before it serves a request or writes a row."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def field_encryption_keys_check(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Outside development, encrypted fields need FIELD_ENCRYPTION_KEYS; any key set must parse."""
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []
    if not keys:
        if settings.DEBUG:
            return []
        return [
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is empty, so encrypted fields can be neither read nor "
                "written.",
                hint="Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first.",
                id="core.E001",
            )
        ]
    from apps.core.encryption import validate_keys

    try:
        validate_keys(keys)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="core.E002")]
    return []


# Django's own deploy checks only warn about these (security.W009, W018); a production process
# must not start with them, so they are errors here.
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


@checks.register(checks.Tags.security, deploy=True)
def production_secrets_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy` fails on debug, a published or weak SECRET_KEY, or a published field
    encryption key."""
    from fitnesscrm.settings import insecure

    errors = []
    if settings.DEBUG:
        errors.append(
            checks.Error(
                "DEBUG is on: tracebacks and settings would be shown to anyone.",
                hint="Unset DJANGO_DEBUG (or set it to false) in production.",
                id="core.E010",
            )
        )
    secret = str(getattr(settings, "SECRET_KEY", "") or "")
    if secret in insecure.SECRET_KEYS:
        errors.append(
            checks.Error(
                "SECRET_KEY is the development or test key published in this repository.",
                hint="Set DJANGO_SECRET_KEY to a long random value of your own.",
                id="core.E011",
            )
        )
    elif (
        len(secret) < MIN_SECRET_KEY_LENGTH
        or len(set(secret)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or secret.startswith("django-insecure-")
    ):
        errors.append(
            checks.Error(
                f"SECRET_KEY is missing or weak: it needs at least {MIN_SECRET_KEY_LENGTH} "
                f"characters, {MIN_SECRET_KEY_UNIQUE_CHARACTERS} of them different.",
                hint="Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(64))'",
                id="core.E012",
            )
        )
    keys = set(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [])
    if keys & insecure.FIELD_KEYS:
        errors.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS holds a key published in this repository: anyone could "
                "read the encrypted health notes and tokens.",
                hint="Generate your own key (see .env.example) and re-encrypt with "
                "manage.py reencrypt_fields.",
                id="core.E013",
            )
        )
    return errors
