"""DRF permission classes for the role table in ARCHITECTURE.md. Object rules (a trainer sees
only assigned clients) live in each app's selectors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from apps.accounts.models import STAFF_ROLES, Role
from apps.accounts.roles import MANAGEMENT_ROLES, has_role, mfa_enabled


class HasRole(BasePermission):
    roles: frozenset[str] = frozenset()
    message = _("Your role does not allow this.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, *self.roles)


class IsOwner(HasRole):
    roles = frozenset({Role.OWNER})


class IsManagement(HasRole):
    roles = MANAGEMENT_ROLES


class IsStaffMember(HasRole):
    roles = STAFF_ROLES


class IsClient(HasRole):
    roles = frozenset({Role.CLIENT})


class ManagementWithMfa(IsManagement):
    """Owners and managers who have set up two-factor authentication (billing, exports)."""

    message = _("Set up two-factor authentication to use this.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return super().has_permission(request, view) and mfa_enabled(request.user)
