"""Who may do what, by role. One place so views, the API and selectors agree."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import STAFF_ROLES, Role

MANAGEMENT_ROLES = frozenset({Role.OWNER, Role.MANAGER})
# Roles that may see health data (notes, PAR-Q, measurements) of the clients they may see.
HEALTH_DATA_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.TRAINER})


def has_role(user: Any, *roles: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.role in roles


def is_management(user: Any) -> bool:
    return has_role(user, *MANAGEMENT_ROLES)


def is_staff_member(user: Any) -> bool:
    return has_role(user, *STAFF_ROLES)


def mfa_enabled(user: Any) -> bool:
    """Whether the user has an authenticator app (TOTP) set up."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
