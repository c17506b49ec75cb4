"""Whose personal data a member of staff may export or erase."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from apps.accounts.models import Role, User
from apps.accounts.roles import is_management


def data_subject_get(*, viewer: User, pk: int, action: Literal["export", "erase"]) -> User:
    """The user `pk` of the current gym if `viewer` may act on their data, else 403 or 404.

    Owners and managers act on behalf of anyone in their gym, except that a manager never acts
    on an owner (managers hold everything but ownership), and nobody erases their own account
    here: that would be a manager removing themselves from the gym without the owner.
    """
    if not is_management(viewer):
        raise PermissionDenied
    # The query runs in the current gym's schema: another gym's ids are simply not there.
    subject = get_object_or_404(User, pk=pk)
    if viewer.role == Role.MANAGER and subject.role == Role.OWNER:
        raise PermissionDenied
    if action == "erase" and subject.pk == viewer.pk:
        raise PermissionDenied
    return subject
