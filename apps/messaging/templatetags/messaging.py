"""Messaging in templates: the unread badge of the navigations (with the script that keeps it
live) and how times and senders read in a thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.messaging.models import Message
from apps.messaging.payloads import sender_name
from apps.messaging.selectors import unread_conversation_count

register = template.Library()


@register.simple_tag(takes_context=True)
def messaging_unread_badge(context: dict[str, Any]) -> SafeString:
    """The number of conversations with something unread, and (once per page) the script
    that opens the page's socket and keeps every badge current. The count is read once per
    request: the phone's menu and the sidebar show the same navigation."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return SafeString("")
    count = getattr(request, "_messaging_unread", None)
    script = SafeString("")
    if count is None:
        count = unread_conversation_count(viewer=user)
        request._messaging_unread = count  # type: ignore[attr-defined]
        script = format_html(
            '<script src="{}" data-socket="/ws/messages/" data-unread-url="{}" defer></script>',
            static("messaging/live.js"),
            reverse("messaging-conversation-unread"),
        )
    shown = "99+" if count > 99 else str(count)
    return format_html(
        '<span class="nav-badge" data-messaging-unread data-testid="unread-badge"{}>'
        '<span class="visually-hidden">{} </span>'
        "<span data-messaging-unread-count>{}</span></span>{}",
        SafeString("") if count else SafeString(" hidden"),
        _("Unread conversations:"),
        shown,
        script,
    )


@register.filter
def message_when(value: datetime | None) -> str:
    """A time today, else the day: as an inbox shows them."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return date_format(local, "TIME_FORMAT")
    return date_format(local, "SHORT_DATE_FORMAT")


@register.filter
def message_day(value: datetime) -> str:
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return _("Today")
    if (today - local.date()).days == 1:
        return _("Yesterday")
    return date_format(local, "DATE_FORMAT")


@register.filter
def sender_label(message: Message) -> str:
    return sender_name(message)
