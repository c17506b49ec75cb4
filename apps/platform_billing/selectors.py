"""Reads of the platform's billing: a gym's standing (banner, read-only) and the application fee
its Connect payments carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils import timezone

from apps.platform_billing.models import GOOD_STANDING, GymSubscription, PlatformPlan
from apps.tenants.models import Gym


def platform_billing_enabled() -> bool:
    return settings.PLATFORM_BILLING


@dataclass(frozen=True)
class Standing:
    """Where a gym stands with the platform at one moment."""

    subscription: GymSubscription | None
    lapsed_since: datetime | None = None
    read_only_from: datetime | None = None
    read_only: bool = False

    @property
    def lapsed(self) -> bool:
        return self.lapsed_since is not None


GOOD = Standing(subscription=None)


def _lapsed_since(row: GymSubscription, now: datetime) -> datetime | None:
    if row.status in GOOD_STANDING:
        # A trial with no subscription behind it lapses when it ends.
        if (
            row.status == "trialing"
            and not row.stripe_subscription_id
            and row.trial_ends_at
            and row.trial_ends_at <= now
        ):
            return row.trial_ends_at
        return None
    return row.lapsed_at or row.updated_at


def gym_standing(*, gym: Gym, now: datetime | None = None) -> Standing:
    """The gym's standing; always good when platform billing is off or the gym has no
    subscription row (gyms created before it was turned on)."""
    if not platform_billing_enabled() or gym.schema_name == "public":
        return GOOD
    row = GymSubscription.objects.filter(gym_id=gym.pk).select_related("plan").first()
    if row is None:
        return GOOD
    now = now or timezone.now()
    since = _lapsed_since(row, now)
    if since is None:
        return Standing(subscription=row)
    read_only_from = since + timedelta(days=settings.PLATFORM_BILLING_GRACE_DAYS)
    return Standing(
        subscription=row,
        lapsed_since=since,
        read_only_from=read_only_from,
        read_only=now >= read_only_from,
    )


def subscription_for_owner(*, viewer: object, gym: Gym) -> GymSubscription | None:
    """The gym's subscription, for its owner's page (the view checks the role)."""
    return GymSubscription.objects.filter(gym_id=gym.pk).select_related("plan").first()


def plans_on_sale() -> list[PlatformPlan]:
    return list(PlatformPlan.objects.filter(is_active=True).order_by("amount"))


def active_clients_count() -> int:
    """The clients a gym's price is counted by: those with an active status, in the current
    gym's schema."""
    from apps.crm.models import Client, ClientStatus

    return Client.objects.filter(status=ClientStatus.ACTIVE).count()


def plan_fits(plan: PlatformPlan, count: int) -> bool:
    return plan.max_active_clients is None or count <= plan.max_active_clients


def plan_for_active_clients(*, count: int) -> PlatformPlan | None:
    """The cheapest plan whose tier holds `count` active clients."""
    for plan in plans_on_sale():
        if plan_fits(plan, count):
            return plan
    return None


def application_fee_percent() -> float | None:
    """The platform's share of a gym's Connect subscription payments, in percent (Checkout's
    `subscription_data.application_fee_percent`); None when there is none to ask."""
    percent = Decimal(str(settings.PLATFORM_APPLICATION_FEE_PERCENT or 0))
    if not platform_billing_enabled() or percent <= 0:
        return None
    return float(percent)


def application_fee_for(gym: Gym, amount: int) -> int | None:
    """The platform's fee on one of `gym`'s Connect payments of `amount` minor units (for
    Checkout's `application_fee_amount`), rounded down; None when there is none to ask."""
    percent = settings.PLATFORM_APPLICATION_FEE_PERCENT
    if not platform_billing_enabled() or not percent or amount <= 0:
        return None
    fee = (Decimal(amount) * Decimal(percent) / 100).to_integral_value(rounding=ROUND_DOWN)
    return int(fee) or None
