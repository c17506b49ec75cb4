"""Reads of the public Stripe lookup tables."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, QuerySet

from apps.connect.models import ConnectedAccount, StripeEvent
from apps.tenants.models import Gym


def connected_account_for_gym(*, gym: Gym) -> ConnectedAccount | None:
    """The gym's connected account in use, if any."""
    return ConnectedAccount.objects.filter(gym=gym, disconnected_at__isnull=True).first()


def connected_account_latest(*, gym: Gym) -> ConnectedAccount | None:
    """The gym's account in use, else the one it disconnected last (the page shows either)."""
    return (
        ConnectedAccount.objects.filter(gym=gym)
        .order_by(F("disconnected_at").desc(nulls_first=True), "-connected_at")
        .first()
    )


def stripe_event_route(
    *, account: str, metadata: dict[str, str] | None
) -> tuple[Gym | None, ConnectedAccount | None]:
    """The gym an event belongs to, and (Connect) the connected account that sent it.
    Connect: that account decides (a disconnected one too: its late events still belong to
    that gym); metadata never decides, so nothing in an event a gym's own account sends can
    reach another gym. Direct mode: the gym in our metadata, else the one gym the instance is
    configured for."""
    if settings.STRIPE_MODE != "direct":
        if not account:
            return None, None
        row = ConnectedAccount.objects.select_related("gym").filter(account_id=account).first()
        return (row.gym, row) if row is not None else (None, None)
    subdomain = (metadata or {}).get("gym") or settings.STRIPE_DIRECT_GYM
    if not subdomain:
        return None, None
    return Gym.objects.filter(subdomain=subdomain).first(), None


def stripe_events_recent(*, gym: Gym, limit: int = 10) -> QuerySet[StripeEvent]:
    """The gym's latest events, newest first, without their payloads."""
    return StripeEvent.objects.filter(gym=gym).defer("payload").order_by("-received_at")[:limit]
