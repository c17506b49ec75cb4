"""`viewer` in every template: what the signed-in user's role lets them see, from
apps.accounts.roles, so templates never compare role names themselves."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from apps.accounts.models import Role
from apps.accounts.roles import HEALTH_DATA_ROLES, has_role, is_management, is_staff_member


class Viewer:
    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def is_management(self) -> bool:
        return is_management(self.user)

    @cached_property
    def is_staff_member(self) -> bool:
        return is_staff_member(self.user)

    @cached_property
    def is_coaching_staff(self) -> bool:
        """Owners, managers and trainers: the staff who coach (and see health data)."""
        return has_role(self.user, *HEALTH_DATA_ROLES)

    @cached_property
    def is_trainer(self) -> bool:
        return has_role(self.user, Role.TRAINER)

    @cached_property
    def is_front_desk(self) -> bool:
        return has_role(self.user, Role.FRONT_DESK)

    @cached_property
    def is_client(self) -> bool:
        return has_role(self.user, Role.CLIENT)


def viewer(request: HttpRequest) -> dict[str, Viewer]:
    return {"viewer": Viewer(getattr(request, "user", None))}
