"""Reads of campaigns: audiences (segments) as client querysets, the campaign lists and each
campaign's figures. Segments and campaigns are for owners and managers only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.campaigns.models import Campaign, CampaignChannel, CampaignResponse, ResponseKind, Segment
from apps.campaigns.segments import definition_clean, definition_q
from apps.crm.models import Client, Consent, ConsentKind
from apps.tenants.selectors import gym_today

# The consent each channel's marketing needs.
CHANNEL_CONSENT = {
    CampaignChannel.EMAIL: ConsentKind.MARKETING_EMAIL,
    CampaignChannel.SMS: ConsentKind.SMS,
}


def may_run_campaigns(user: User) -> bool:
    return user.is_authenticated and is_management(user)


def _check_viewer(viewer: User) -> None:
    if not may_run_campaigns(viewer):
        raise PermissionDenied(_("Only owners and managers run campaigns."))


def latest_consent(kind: str) -> Subquery:
    """The client's latest word on `kind` (True, False, or NULL for none), read through the
    (client, kind, -recorded_at) index."""
    return Subquery(
        Consent.objects.filter(client=OuterRef("pk"), kind=kind)
        .order_by("-recorded_at", "-pk")
        .values("granted")[:1]
    )


def _suppressed_q(channel: str) -> Q:
    """Clients whose address is on the notifications suppression list for `channel`."""
    from apps.notifications.models import Suppression

    if channel == CampaignChannel.EMAIL:
        return Q(
            Exists(Suppression.objects.filter(channel="email", address=Lower(OuterRef("email"))))
        )
    return Q(Exists(Suppression.objects.filter(channel="sms", address=OuterRef("phone"))))


def segment_clients(
    definition: Mapping[str, Any],
    *,
    channel: str = CampaignChannel.EMAIL,
    marketing_only: bool = True,
) -> QuerySet[Client]:
    """The clients `definition` describes (see apps.campaigns.segments), as one query. With
    `marketing_only` (campaigns): only those reachable on `channel` with current marketing
    consent (their latest consent row for it is a yes) and not suppressed. Raises
    ValidationError naming a bad rule."""
    clean = definition_clean(definition)
    clients = Client.objects.filter(definition_q(clean, today=gym_today(), now=timezone.now()))
    if marketing_only:
        if channel == CampaignChannel.SMS:
            clients = clients.exclude(phone="")
        else:
            clients = clients.exclude(email="")
        clients = (
            clients.alias(consented=latest_consent(CHANNEL_CONSENT[channel]))
            .filter(consented=True)
            .exclude(_suppressed_q(channel))
        )
    return clients


def segment_list(*, viewer: User) -> QuerySet[Segment]:
    _check_viewer(viewer)
    return Segment.objects.all()


def segment_get(*, viewer: User, pk: int) -> Segment:
    return segment_list(viewer=viewer).get(pk=pk)


def campaign_list(*, viewer: User) -> QuerySet[Campaign]:
    _check_viewer(viewer)
    return Campaign.objects.select_related("segment")


def campaign_get(*, viewer: User, pk: int) -> Campaign:
    return campaign_list(viewer=viewer).get(pk=pk)


def campaign_audience(campaign: Campaign) -> QuerySet[Client]:
    return segment_clients(campaign.segment.definition, channel=campaign.channel)


@dataclass(frozen=True)
class CampaignFigures:
    recipients: int
    queued: int
    sent: int
    delivered: int
    bounced: int
    failed: int
    unsubscribed: int
    clicked: int
    clicks: int

    def rate(self, part: int) -> float | None:
        return round(100 * part / self.sent, 1) if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicked)

    @property
    def unsubscribe_rate(self) -> float | None:
        return self.rate(self.unsubscribed)


# Delivery statuses that mean the message left us (a bounce or a delivery report comes later).
LEFT_US = ("sent", "delivered", "bounced")


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    """Sent, delivered, bounced, failed from the campaign's Delivery rows (their statuses move
    with the provider's reports), unsubscribed and clicked from its recipients' responses.
    Two queries."""
    from apps.notifications.models import Delivery

    deliveries = Delivery.objects.filter(group_key=campaign.group_key).aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status__in=("queued", "sending"))),
        sent=Count("pk", filter=Q(status__in=LEFT_US)),
        delivered=Count("pk", filter=Q(status="delivered")),
        bounced=Count("pk", filter=Q(status="bounced")),
        failed=Count("pk", filter=Q(status__in=("failed", "suppressed", "skipped"))),
    )
    responses = CampaignResponse.objects.filter(campaign=campaign).aggregate(
        unsubscribed=Count("pk", filter=Q(kind=ResponseKind.UNSUBSCRIBE)),
        clicked=Count("pk", filter=Q(kind=ResponseKind.CLICK)),
        clicks=Sum("count", filter=Q(kind=ResponseKind.CLICK), default=0),
    )
    return CampaignFigures(
        recipients=campaign.recipient_count or deliveries["total"],
        queued=deliveries["queued"],
        sent=deliveries["sent"],
        delivered=deliveries["delivered"],
        bounced=deliveries["bounced"],
        failed=deliveries["failed"],
        unsubscribed=responses["unsubscribed"],
        clicked=responses["clicked"],
        clicks=responses["clicks"],
    )
