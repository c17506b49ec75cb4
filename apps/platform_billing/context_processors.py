"""The lapsed-subscription banner on every staff page of a gym."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.accounts.roles import is_staff_member


def platform_standing(request: HttpRequest) -> dict[str, Any]:
    standing = getattr(request, "platform_standing", None)
    if standing is None or not standing.lapsed:
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_staff_member(user):
        return {}
    return {"platform_standing": standing}
