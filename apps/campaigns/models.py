"""Marketing campaigns: saved audiences (segments), the campaigns sent to them, and what their
recipients did with them (clicks, unsubscribes). Each send is a row of
apps.notifications' Delivery (event_key "campaign:<id>:client:<id>", group_key
"campaign:<id>"), so this app keeps no send log of its own. Tables live in each gym's schema,
kept lean: every relation here is repeated once per gym."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Segment(TimeStampedModel):
    """A saved audience: a definition (see apps.campaigns.segments) read again at each use,
    so the people in it are whoever matches at that moment."""

    name = models.CharField(_("name"), max_length=120)
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


# A campaign in one of these may still be edited.
EDITABLE_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


class Campaign(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(
        _("channel"), max_length=5, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL
    )
    # A gym has a few campaigns per segment at most: deleting a segment can afford to look
    # them up without an index (PROTECT refuses while any uses it).
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("audience"),
        on_delete=models.PROTECT,
        related_name="campaigns",
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # How many recipients the audience had when sending started (the Delivery rows made then).
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="campaigns_campaign_status"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=CampaignChannel.values), name="campaigns_campaign_channel"
            ),
            models.CheckConstraint(
                condition=~Q(status=CampaignStatus.SCHEDULED) | Q(scheduled_at__isnull=False),
                name="campaigns_campaign_scheduled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def group_key(self) -> str:
        return f"campaign:{self.pk}"

    def event_key(self, client_id: int) -> str:
        return f"campaign:{self.pk}:client:{client_id}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class ResponseKind(models.TextChoices):
    CLICK = "click", _("Clicked")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")


class CampaignResponse(models.Model):
    """What one recipient did with one campaign: clicked (how often, the last link) or
    unsubscribed. One row per (campaign, client, kind), so the figures count people."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    # Erasing a client deletes their rows by client_id without an index: rare, and a second
    # index on the largest table here would cost every gym.
    client = models.ForeignKey(
        "crm.Client", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ResponseKind.choices)
    count = models.PositiveIntegerField(_("times"), default=1)
    url = models.URLField(_("last link"), max_length=2000, blank=True)
    first_at = models.DateTimeField(_("first"), auto_now_add=True)
    last_at = models.DateTimeField(_("last"), auto_now=True)

    class Meta:
        verbose_name = _("campaign response")
        verbose_name_plural = _("campaign responses")
        constraints = [
            # Also the index the figures (by campaign and kind) read.
            models.UniqueConstraint(
                fields=["campaign", "kind", "client"], name="campaigns_response_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ResponseKind.values), name="campaigns_response_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.client_id}: {self.kind}"
