"""Authentication backends that remember signed-in users in the web process's memory.

Every request with a session reads its user. These backends keep the user's row in memory
under the `auth` data version (apps/core/versions.py), which the database bumps in the same
transaction as any write to users or sessions (accounts 0004): a user who is changed,
deactivated or deleted, or whose password changes, is read afresh by the next request in every
process. Kept at most AUTH_CACHE_SECONDS, AUTH_CACHE_ENTRIES of them (0 turns this off). Django
still checks the session's password hash against the user each request.
"""

from __future__ import annotations

import pickle
from typing import Any

from allauth.account import auth_backends
from django.contrib.auth import backends

from apps.core import versions

# Pickled users: each request gets its own instance to change.
_users: versions.Memory[bytes] = versions.Memory(
    versions.AUTH, "AUTH_CACHE_ENTRIES", "AUTH_CACHE_SECONDS"
)


def clear() -> None:
    _users.clear()


class RememberedUserMixin:
    def get_user(self, user_id: Any) -> Any:
        if not _users.enabled():
            return super().get_user(user_id)  # type: ignore[misc]
        key = _users.key(str(user_id))
        kept = _users.get(key)
        if kept is not None:
            user = pickle.loads(kept)  # noqa: S301 (our own bytes, made below)
            return user if self.user_can_authenticate(user) else None  # type: ignore[attr-defined]
        user = super().get_user(user_id)  # type: ignore[misc]
        if user is not None:
            _users.put(key, pickle.dumps(user, pickle.HIGHEST_PROTOCOL))
        return user


class ModelBackend(RememberedUserMixin, backends.ModelBackend):
    """Django's ModelBackend (staff sign-in by email and password)."""


class AuthenticationBackend(RememberedUserMixin, auth_backends.AuthenticationBackend):
    """allauth's backend (sign-in, MFA, headless)."""
