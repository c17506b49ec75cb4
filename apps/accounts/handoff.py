"""Sign-up hand-off: the gym is created on the public host, but its owner's session must live on
the gym's host (sessions are per schema). A short-lived, single-use signed token carries the
login across."""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import cache

from apps.accounts.models import User

_SALT = "fitnesscrm.accounts.handoff"
MAX_AGE_SECONDS = 120


def handoff_token_create(*, schema_name: str, user: User) -> str:
    payload = {"schema": schema_name, "user": user.pk, "nonce": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=_SALT)


def handoff_token_redeem(*, schema_name: str, token: str) -> User | None:
    """The user the token names, once: None when it is forged, expired, reused or for
    another gym."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if payload.get("schema") != schema_name:
        return None
    # cache.add is atomic: only the first redemption of a nonce succeeds.
    if not cache.add(f"handoff:{payload['nonce']}", 1, timeout=MAX_AGE_SECONDS * 2):
        return None
    return User.objects.filter(pk=payload["user"], is_active=True).first()
