"""Writes of the platform's billing: the trial a gym starts with, the subscription following
the platform's Stripe events, and the Checkout/Customer Portal sessions of the owner's page.
All on the platform's own Stripe account: no call here carries a `stripe_account`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing.stripe_gateway import platform_client
from apps.platform_billing.models import (
    GOOD_STANDING,
    GymSubscription,
    PlatformPlan,
    PlatformStripeEvent,
    SubscriptionStatus,
)
from apps.tenants.models import Gym

WEBHOOK_TOLERANCE_SECONDS = 300
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)


@transaction.atomic
def trial_start(*, gym: Gym, now: datetime | None = None) -> GymSubscription | None:
    """A new gym's trial (once; nothing when platform billing is off)."""
    if not settings.PLATFORM_BILLING:
        return None
    now = now or timezone.now()
    row, _created = GymSubscription.objects.get_or_create(
        gym=gym,
        defaults={
            "status": SubscriptionStatus.TRIALING,
            "trial_ends_at": now + timedelta(days=settings.PLATFORM_BILLING_TRIAL_DAYS),
        },
    )
    return row


def _when(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), tz=UTC) if timestamp else None


def _ref(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "")


def _row_for(obj: dict[str, Any], subscription_id: str) -> GymSubscription | None:
    """Our row for a platform object: by its subscription id, else by the gym our Checkout put
    in its metadata, else by its customer."""
    rows = GymSubscription.objects.select_for_update()
    if subscription_id:
        row = rows.filter(stripe_subscription_id=subscription_id).first()
        if row is not None:
            return row
    gym_id = str((obj.get("metadata") or {}).get("platform_gym") or "")
    if gym_id.isdigit():
        row = rows.filter(gym_id=int(gym_id)).first()
        if row is not None:
            return row
    customer = _ref(obj.get("customer"))
    return rows.filter(stripe_customer_id=customer).first() if customer else None


def _status_set(row: GymSubscription, status: str, now: datetime) -> None:
    if status in GOOD_STANDING:
        row.lapsed_at = None
    elif row.status in GOOD_STANDING or row.lapsed_at is None:
        row.lapsed_at = now
    row.status = status


def _link_djstripe(row: GymSubscription) -> None:
    from djstripe.models import Customer, Subscription

    customer, subscription = row.stripe_customer_id, row.stripe_subscription_id
    if (
        customer
        and row.djstripe_customer_id is None
        and Customer.objects.filter(id=customer).exists()
    ):
        row.djstripe_customer_id = customer
    if (
        subscription
        and row.djstripe_subscription_id is None
        and Subscription.objects.filter(id=subscription).exists()
    ):
        row.djstripe_subscription_id = subscription


@transaction.atomic
def platform_event_apply(*, event: dict[str, Any]) -> GymSubscription | None:
    """Apply one of the platform's own Stripe events to the gym it is about; events of a
    connected account (an `account`) are gyms' own business and never reach here. Idempotent:
    each event id once, and an event older than the last one applied is skipped."""
    if event.get("account"):
        return None
    event_type = str(event.get("type") or "")
    if event_type not in SUBSCRIPTION_EVENTS:
        return None
    try:
        with transaction.atomic():
            PlatformStripeEvent.objects.create(event_id=str(event["id"]), type=event_type[:100])
    except IntegrityError:
        return None
    obj = (event.get("data") or {}).get("object") or {}
    created = _when(event.get("created")) or timezone.now()
    if event_type.startswith("invoice."):
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        subscription_id = _ref(obj.get("subscription") or details.get("subscription"))
    else:
        subscription_id = str(obj.get("id") or "")
    row = _row_for(obj, subscription_id)
    if row is None:
        return None
    if row.stripe_state_at and created < row.stripe_state_at:
        return row
    row.stripe_state_at = created
    if subscription_id and not row.stripe_subscription_id:
        row.stripe_subscription_id = subscription_id
    if obj.get("customer") and not row.stripe_customer_id:
        row.stripe_customer_id = _ref(obj["customer"])
    if event_type == "invoice.paid":
        _status_set(row, SubscriptionStatus.ACTIVE, created)
    elif event_type == "invoice.payment_failed":
        _status_set(row, SubscriptionStatus.PAST_DUE, created)
    else:
        status = str(obj.get("status") or "")
        if event_type == "customer.subscription.deleted":
            status = SubscriptionStatus.CANCELED
        if status in SubscriptionStatus.values:
            _status_set(row, status, created)
        period_end = obj.get("current_period_end") or (
            ((obj.get("items") or {}).get("data") or [{}])[0].get("current_period_end")
        )
        row.current_period_end = _when(period_end) or row.current_period_end
        if obj.get("trial_end"):
            row.trial_ends_at = _when(obj["trial_end"])
        price = _ref((((obj.get("items") or {}).get("data") or [{}])[0]).get("price"))
        if price:
            row.plan = PlatformPlan.objects.filter(stripe_price_id=price).first() or row.plan
    _link_djstripe(row)
    row.save()
    return row


def platform_event_receive(*, payload: bytes, signature: str) -> GymSubscription | None:
    """Verify a delivery to the platform's webhook endpoint and apply it. Raises
    stripe.SignatureVerificationError or ValueError before anything changes."""
    secret = settings.PLATFORM_STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError("No webhook secret is configured", signature)
    stripe.Webhook.construct_event(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    event = json.loads(payload)
    if not str(event.get("id") or "").startswith("evt_"):
        raise ValueError("Not a Stripe event")
    return platform_event_apply(event=event)


def _customer_ensure(*, row: GymSubscription, email: str) -> str:
    if row.stripe_customer_id:
        return row.stripe_customer_id
    customer = platform_client().v1.customers.create(
        {
            "email": email,
            "name": row.gym.name,
            "metadata": {"platform_gym": str(row.gym_id), "subdomain": row.gym.subdomain},
        }
    )
    GymSubscription.objects.filter(pk=row.pk).update(stripe_customer_id=customer.id)
    row.stripe_customer_id = customer.id
    return customer.id


def subscribe_session_create(
    *, gym: Gym, plan: PlatformPlan, email: str, success_url: str, cancel_url: str
) -> str:
    """A Checkout page (platform account) subscribing `gym` to `plan`; returns its URL. A tier
    smaller than the gym's active clients is refused."""
    from apps.platform_billing.selectors import active_clients_count, plan_fits

    if not plan_fits(plan, active_clients_count()):
        raise ValidationError(
            {"plan": _("Your gym has more active clients than this plan allows.")}
        )
    row = trial_start(gym=gym) or GymSubscription.objects.get(gym=gym)
    customer = _customer_ensure(row=row, email=email)
    metadata = {"platform_gym": str(gym.pk), "plan": plan.code}
    session = platform_client().v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(gym.pk),
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
    )
    return str(session.url)


def card_update_session_create(*, gym: Gym, email: str, return_url: str) -> str:
    """A Customer Portal session (platform account) where the owner changes the card."""
    row = trial_start(gym=gym) or GymSubscription.objects.get(gym=gym)
    customer = _customer_ensure(row=row, email=email)
    session = platform_client().v1.billing_portal.sessions.create(
        {"customer": customer, "return_url": return_url}
    )
    return str(session.url)


# The tiers a new installation sells until an operator changes them in the platform admin:
# (code, name, active clients up to, monthly price in minor units).
DEFAULT_PLANS = (
    ("starter", "Starter", 50, 2900),
    ("growth", "Growth", 200, 5900),
    ("unlimited", "Unlimited", None, 9900),
)


def platform_plans_ensure(*, currency: str = "EUR", in_stripe: bool = False) -> list[PlatformPlan]:
    """The default platform plans, made where missing (by code) and never changed once there:
    an operator may have repriced them. `in_stripe`: each plan without a Stripe price gets a
    Product and a monthly Price on the platform's account (idempotency keys per plan, so a
    run cut short and run again makes no second one). Returns every default plan."""
    plans = []
    for code, name, limit, amount in DEFAULT_PLANS:
        plan, _created = PlatformPlan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "max_active_clients": limit,
                "amount": amount,
                "currency": currency.upper(),
            },
        )
        if in_stripe and not plan.stripe_price_id:
            client = platform_client()
            product = client.v1.products.create(
                {"name": f"FitnessCRM {plan.name}", "metadata": {"platform_plan": plan.code}},
                {"idempotency_key": f"platform-plan-{plan.code}-product"},
            )
            price = client.v1.prices.create(
                {
                    "product": product.id,
                    "unit_amount": plan.amount,
                    "currency": plan.currency.lower(),
                    "recurring": {"interval": "month"},
                    "metadata": {"platform_plan": plan.code},
                },
                {"idempotency_key": f"platform-plan-{plan.code}-price-{plan.amount}"},
            )
            PlatformPlan.objects.filter(pk=plan.pk).update(stripe_price_id=price.id)
            plan.stripe_price_id = price.id
        plans.append(plan)
    return plans
