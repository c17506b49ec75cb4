"""The lapsed-subscription banner on every staff page of a gym, and on every page of its
client portal once the gym is read-only (its clients' bookings and changes are refused then,
and the banner says why)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.accounts.roles import is_staff_member


def platform_standing(request: HttpRequest) -> dict[str, Any]:
    standing = getattr(request, "platform_standing", None)
    if standing is None or not standing.lapsed:
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if is_staff_member(user):
        return {"platform_standing": standing}
    if standing.read_only:
        # A client needs no word of a lapse while it changes nothing for them.
        return {"platform_standing": standing, "platform_banner_for_client": True}
    return {}
