"""Public-schema lookup tables for Stripe: which gym owns which connected account, and every
webhook event received, stored once by its id."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConnectedAccount(models.Model):
    """A gym's Stripe account, connected through Connect OAuth (Standard). The row stays after a
    disconnect (`disconnected_at`) so events that arrive later still find their gym."""

    gym = models.ForeignKey("tenants.Gym", on_delete=models.CASCADE, related_name="stripe_accounts")
    account_id = models.CharField(_("Stripe account"), max_length=255, unique=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    display_name = models.CharField(_("name at Stripe"), max_length=255, blank=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    last_error = models.TextField(_("last failure"), blank=True)
    last_error_at = models.DateTimeField(_("last failure at"), null=True, blank=True)
    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    disconnected_at = models.DateTimeField(_("disconnected at"), null=True, blank=True)

    class Meta:
        verbose_name = _("connected Stripe account")
        verbose_name_plural = _("connected Stripe accounts")
        constraints = [
            # One live connection per gym: every call for the gym must name one account.
            models.UniqueConstraint(
                fields=["gym"],
                condition=Q(disconnected_at__isnull=True),
                name="connect_one_active_account_per_gym",
            ),
        ]

    def __str__(self) -> str:
        return self.account_id

    @property
    def is_active(self) -> bool:
        return self.disconnected_at is None


class StripeEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class StripeEvent(models.Model):
    """One webhook event, stored before it is answered and processed on Celery. The unique event
    id is what makes a delivery that Stripe repeats (it retries for three days) a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The connected account (acct_...) the event happened on; empty for the platform's own.
    account = models.CharField(max_length=255, blank=True)
    # The id of the object the event is about (data.object.id): events about one object are
    # applied in order of `created` (apps.connect.services, "what an event is about").
    object_id = models.CharField(max_length=255, blank=True, default="")
    livemode = models.BooleanField(default=False)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    gym = models.ForeignKey(
        "tenants.Gym",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_events",
    )
    status = models.CharField(
        max_length=16, choices=StripeEventStatus.choices, default=StripeEventStatus.RECEIVED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        indexes = [
            models.Index(fields=["status", "received_at"], name="connect_event_status_idx"),
            # The newest event applied about an object; its leading column serves lookups by
            # account alone.
            models.Index(
                fields=["account", "object_id", "created"], name="connect_event_object_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
