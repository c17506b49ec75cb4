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
