"""The notification service's records, all in the gym's schema.

Lean on purpose (every relation is repeated in every gym, docs/architecture.md "Footprint per
gym"): a person's preferences and quiet hours are one row with a JSON map, and indexes exist
only for the reads that need them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")


class Category(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    MARKETING = "marketing", _("Marketing")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    SUPPRESSED = "suppressed", _("Suppressed")
    SKIPPED = "skipped", _("Skipped")


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce", _("Bounced")
    COMPLAINT = "complaint", _("Marked as spam")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
    STOP = "stop", _("Replied STOP")
    MANUAL = "manual", _("Added by staff")


class Notification(models.Model):
    """One entry of a person's notification centre (the in-app channel)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # the (recipient, created_at) index serves it
    )
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One send on one channel to one person, by any app: THE log staff search. Unique on
    (channel, event_key), and event_key names the recipient, so however often a caller or a
    task runs, an event reaches a person once per channel."""

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient_client = models.ForeignKey(
        "crm.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # An email address, an E.164 phone number or a push subscription's id; blank in the app.
    address = models.CharField(_("address"), max_length=320, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=64)
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.TRANSACTIONAL
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    # What is sent, rendered once in the recipient's language, so a retry sends the same.
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    # A secret kind's real text and HTML (JSON), which hold a link that lets someone in: body
    # and html keep the message without it; this is emptied once the send is over.
    secret_content = EncryptedTextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=128, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    event_key = models.CharField(_("event"), max_length=255)
    group_key = models.CharField(_("group"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Held back until then (quiet hours); the periodic sweep sends it.
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "event_key"], name="delivery_once_per_event")
        ]
        indexes = [
            models.Index(
                fields=["provider_id"],
                name="delivery_provider_id",
                condition=~Q(provider_id=""),
            ),
            models.Index(
                fields=["send_after"], name="delivery_held_back", condition=Q(status="queued")
            ),
            models.Index(fields=["group_key"], name="delivery_group", condition=~Q(group_key="")),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} to {self.address or self.recipient_user_id}"


class Suppression(models.Model):
    """An address no later send may reach on a channel (bounces, complaints, STOP, by hand)."""

    channel = models.CharField(
        _("channel"), max_length=10, choices=[(Channel.EMAIL, _("Email")), (Channel.SMS, _("SMS"))]
    )
    # Lower-cased email, or E.164 phone.
    address = models.CharField(_("address"), max_length=320)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_once")
        ]
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")

    def __str__(self) -> str:
        return f"{self.channel}:{self.address} ({self.reason})"


class Preference(models.Model):
    """A person's choices: `channels` maps "kind:channel" to on/off where they differ from the
    kind's defaults; quiet hours are wall-clock times in the person's own time zone (an end
    before the start spans midnight)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    channels = models.JSONField(default=dict, blank=True)
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class PushSubscription(models.Model):
    """A browser's web push subscription (the portal's service worker), per user and device."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    # Unique through Meta's constraint: unique=True would add a second (pattern-matching)
    # index on PostgreSQL that no query uses.
    endpoint = models.URLField(_("endpoint"), max_length=1000)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=64)
    user_agent = models.CharField(_("device"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint"], name="push_endpoint_once")]
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"push for {self.user_id}"
