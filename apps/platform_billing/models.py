"""Platform plans and each gym's subscription to one (public schema)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlatformPlan(models.Model):
    """A tier priced by the gym's active clients; `max_active_clients` None is unlimited."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    max_active_clients = models.PositiveIntegerField(
        _("active clients up to"), null=True, blank=True
    )
    amount = models.PositiveIntegerField(_("monthly price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    stripe_price_id = models.CharField(_("Stripe price id"), max_length=255, blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ("amount",)
        verbose_name = _("platform plan")
        verbose_name_plural = _("platform plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="platform_plan_currency_iso",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    # Stripe's subscription statuses, plus our own trial before any Stripe subscription exists.
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    UNPAID = "unpaid", _("Unpaid")
    CANCELED = "canceled", _("Cancelled")
    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Expired")
    PAUSED = "paused", _("Paused")


GOOD_STANDING = frozenset({SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE})


class GymSubscription(models.Model):
    """What the gym pays the platform. `lapsed_at` is when it stopped being in good standing
    (a failed renewal, a cancellation, a trial that ended unpaid): the banner shows from then,
    read-only starts a grace period later; a payment clears it."""

    gym = models.OneToOneField(
        "tenants.Gym", on_delete=models.CASCADE, related_name="platform_subscription"
    )
    plan = models.ForeignKey(PlatformPlan, on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=SubscriptionStatus, default=SubscriptionStatus.TRIALING
    )
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    current_period_end = models.DateTimeField(_("paid until"), null=True, blank=True)
    lapsed_at = models.DateTimeField(_("lapsed"), null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    # dj-stripe's copies of the same objects, when its sync has them (ours are the ids above).
    djstripe_customer = models.ForeignKey(
        "djstripe.Customer",
        to_field="id",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    djstripe_subscription = models.ForeignKey(
        "djstripe.Subscription",
        to_field="id",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    # The `created` of the last Stripe event applied: an older event arriving late is skipped.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("gym subscription")
        verbose_name_plural = _("gym subscriptions")

    def __str__(self) -> str:
        return f"{self.gym_id}: {self.status}"


class PlatformStripeEvent(models.Model):
    """Each platform event once (Stripe retries deliveries)."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id
