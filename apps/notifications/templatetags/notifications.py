from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from apps.accounts.models import Role
from apps.accounts.roles import has_role

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    """The bell with the unread count, updated live over /ws/notifications/."""
    from apps.notifications.selectors import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    client = has_role(user, Role.CLIENT)
    return {
        "show": True,
        "unread": unread_count(viewer=user),
        "centre_url": reverse("portal:notifications" if client else "notifications:centre"),
    }


@register.filter
def kind_label(key: str) -> str:
    """A kind's label in the reader's language; the key itself for kinds another app logs
    under its own name (a campaign)."""
    from apps.notifications.kinds import get_kind

    try:
        return str(get_kind(key).label)
    except LookupError:
        return key
