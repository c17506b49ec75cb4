"""Reads about people, filtered by what the viewer may see."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import Invitation, User
from apps.accounts.roles import is_management, is_staff_member


def user_list(*, viewer: User) -> QuerySet[User]:
    """Staff see the gym's people; a client sees only themselves."""
    if is_staff_member(viewer):
        return User.objects.all().order_by("email")
    return User.objects.filter(pk=viewer.pk)


def invitation_list(*, viewer: User) -> QuerySet[Invitation]:
    if not is_management(viewer):
        raise PermissionDenied(_("Only owners and managers can see invitations."))
    return Invitation.objects.select_related("invited_by", "user").order_by("-created_at")
