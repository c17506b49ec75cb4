"""Reads of the notification service, with their rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.notifications.models import Delivery, Notification, Preference, Suppression


def normalise_address(channel: str, address: str) -> str:
    """Emails compare case-insensitively; phone numbers are E.164 already."""
    address = (address or "").strip()
    return address.lower() if channel == "email" else address


def is_suppressed(channel: str, address: str) -> bool:
    """Whether no send may reach `address` on `channel` (bounce, complaint, STOP, ...)."""
    if channel not in ("email", "sms") or not address:
        return False
    return Suppression.objects.filter(
        channel=channel, address=normalise_address(channel, address)
    ).exists()


def preference_for(user: User) -> Preference | None:
    return Preference.objects.filter(user=user).first()


def notification_list(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's own notification centre, newest first."""
    return Notification.objects.filter(recipient=viewer)


def unread_count(*, viewer: User) -> int:
    if not viewer.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=viewer, read_at__isnull=True).count()


def may_read_delivery_log(viewer: User) -> bool:
    return bool(viewer.is_authenticated and is_management(viewer))


def delivery_list(
    *,
    viewer: User,
    recipient: str = "",
    kind: str = "",
    channel: str = "",
    status: str = "",
    since: date | None = None,
    until: date | None = None,
    zone: Any = None,
) -> QuerySet[Delivery]:
    """The delivery log for the owner and managers (nobody else: it names every client's
    address), filtered. Dates are days on the gym's wall clock."""
    if not may_read_delivery_log(viewer):
        return Delivery.objects.none()
    deliveries = Delivery.objects.select_related("recipient_user", "recipient_client")
    if recipient:
        term = recipient.strip()
        deliveries = deliveries.filter(
            Q(address__icontains=term)
            | Q(recipient_client__first_name__icontains=term)
            | Q(recipient_client__last_name__icontains=term)
            | Q(recipient_user__first_name__icontains=term)
            | Q(recipient_user__last_name__icontains=term)
            | Q(recipient_user__email__icontains=term)
        )
    if kind:
        deliveries = deliveries.filter(kind=kind)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    if status:
        deliveries = deliveries.filter(status=status)
    zone = zone or timezone.get_current_timezone()
    if since:
        deliveries = deliveries.filter(created_at__gte=datetime.combine(since, time(), zone))
    if until:
        end = datetime.combine(until + timedelta(days=1), time(), zone)
        deliveries = deliveries.filter(created_at__lt=end)
    return deliveries.order_by("-created_at", "-id")


def group_figures(group_key: str) -> dict[str, int]:
    """How many deliveries of a group (a campaign) are in each status."""
    from django.db.models import Count

    rows = (
        Delivery.objects.filter(group_key=group_key)
        .values("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["status"]: row["count"] for row in rows}


def client_channels(client: Any, *, sms_consent: bool | None = None) -> list[str]:
    """The channels a client's own choices at the desk allow, as `notify(channels=...)`: email
    when they take it and have an address, SMS when they asked for texts and their latest word
    on SMS consent is yes (`sms_consent` when the caller read it with its query, else read
    here), and in the app and push (for clients with a login, whose notification preferences
    then choose among these)."""
    channels = ["in_app", "push"]
    if client.notify_by_email and client.email:
        channels.append("email")
    if client.notify_by_sms:
        if sms_consent is None:
            from apps.crm.models import ConsentKind
            from apps.crm.selectors import consent_given

            sms_consent = consent_given(client=client, kind=ConsentKind.SMS)
        if sms_consent:
            channels.append("sms")
    return channels
