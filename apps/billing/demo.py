"""The demo gym's billing: a catalogue, memberships in every state and twelve months of offline
payment history (cash and transfers: `make run` needs no Stripe account and no network)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from apps.accounts.models import User
from apps.billing import services
from apps.billing.models import (
    CreditGrant,
    CreditKind,
    Grant,
    Interval,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from apps.billing.selectors import gym_currency
from apps.crm.models import Client
from apps.tenants.selectors import gym_today, gym_zone

# (status, how many clients, months since they joined)
STATES = (
    (MembershipStatus.ACTIVE, 28, 12),
    (MembershipStatus.TRIALING, 4, 0),
    (MembershipStatus.PAST_DUE, 4, 6),
    (MembershipStatus.PAUSED, 3, 8),
    (MembershipStatus.SUSPENDED, 2, 9),
    (MembershipStatus.CANCELLED, 5, 10),
    (MembershipStatus.EXPIRED, 3, 11),
)


def seed_billing(*, owner: User, seed: int = 2026) -> dict[str, int]:
    """Fill the current gym's billing. Safe to run again: does nothing once plans exist."""
    if MembershipPlan.objects.exists():
        return {"plans": MembershipPlan.objects.count(), "payments": Payment.objects.count()}
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    currency = gym_currency()
    plans = [
        services.plan_create(
            actor=owner, name="Unlimited", price=7900, joining_fee=2500, minimum_term=3
        ),
        services.plan_create(
            actor=owner,
            name="Eight classes a month",
            price=5900,
            grant=Grant.CLASSES_PER_MONTH,
            grant_count=8,
        ),
        services.plan_create(
            actor=owner,
            name="Twice a week",
            price=4900,
            grant=Grant.CLASSES_PER_WEEK,
            grant_count=2,
            trial_days=7,
        ),
        services.plan_create(
            actor=owner, name="Annual unlimited", price=79000, interval=Interval.YEAR
        ),
        services.plan_create(
            actor=owner,
            name="Personal training",
            price=24000,
            grant=Grant.SESSIONS_PER_MONTH,
            grant_count=4,
        ),
    ]
    packs = [
        services.pack_create(
            actor=owner, name="10 classes", credits=10, price=12000, expiry_days=90
        ),
        services.pack_create(actor=owner, name="5 classes", credits=5, price=6500, expiry_days=60),
        services.pack_create(
            actor=owner,
            name="5 PT sessions",
            kind=CreditKind.SESSION,
            credits=5,
            price=30000,
            expiry_days=180,
        ),
    ]
    services.promotion_code_create(actor=owner, code="WELCOME20", percent_off=20)
    services.promotion_code_create(actor=owner, code="FRIEND10", amount_off=1000)
    services.billing_settings_update(actor=owner, drop_in_price=1500)

    today = gym_today()
    zone = gym_zone()
    now = timezone.now()
    clients = list(Client.objects.order_by("pk"))
    demo_client = Client.objects.filter(user__email="client@demo.example").first()
    if demo_client is not None:
        clients.remove(demo_client)
        clients.insert(0, demo_client)
    memberships: list[Membership] = []
    payments: list[Payment] = []
    index = 0
    for status, count, months in STATES:
        for _ in range(count):
            if index >= len(clients):
                break
            client = clients[index]
            index += 1
            plan = plans[0] if client == demo_client else rng.choice(plans[:3])
            started = today - relativedelta(months=months, days=rng.randint(0, 20))
            period_start = today.replace(day=min(started.day, 28))
            if period_start > today:
                period_start -= relativedelta(months=1)
            ended = None
            if status in (MembershipStatus.CANCELLED, MembershipStatus.EXPIRED):
                ended = today - relativedelta(months=rng.randint(1, 3))
                period_start = ended - relativedelta(months=1) + timedelta(days=1)
            period_end = period_start + relativedelta(months=1) - timedelta(days=1)
            if status == MembershipStatus.TRIALING:
                period_start, period_end = today, today + timedelta(days=6)
                started = today
            membership = Membership(
                client=client,
                plan=plan,
                status=status,
                started_on=started,
                current_period_start=period_start,
                current_period_end=period_end,
                ended_on=ended,
            )
            if status == MembershipStatus.PAUSED:
                membership.paused_from = today - timedelta(days=5)
                membership.paused_until = today + timedelta(days=16)
            if status in (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED):
                days = rng.randint(2, 6) if status == MembershipStatus.PAST_DUE else 25
                membership.past_due_since = now - timedelta(days=days)
                membership.failed_attempts = 2 if status == MembershipStatus.PAST_DUE else 4
            memberships.append(membership)
            # Every month paid since they joined (up to twelve), in cash or by transfer.
            month = started
            last = ended or today
            first = True
            while month <= last and status != MembershipStatus.TRIALING:
                paid = datetime.combine(month, time(10, rng.randint(0, 59)), tzinfo=zone)
                failed = (
                    status in (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED)
                    and month + relativedelta(months=1) > last
                )
                payments.append(
                    Payment(
                        client=client,
                        kind=rng.choice((PaymentKind.OFFLINE_CASH, PaymentKind.OFFLINE_TRANSFER)),
                        amount=plan.price + (plan.joining_fee if first else 0),
                        currency=currency,
                        status=PaymentStatus.FAILED if failed else PaymentStatus.SUCCEEDED,
                        description=plan.name,
                        recorded_by=owner,
                        paid_at=paid,
                    )
                )
                first = False
                month += relativedelta(months=1)
    Membership.objects.bulk_create(memberships)
    by_client = {membership.client_id: membership for membership in memberships}
    for payment in payments:
        payment.membership = by_client.get(payment.client_id)
    # Packs for some of those without a membership, and the demo client's own.
    credits = []
    buyers = clients[index : index + 15]
    if demo_client is not None:
        buyers.append(demo_client)
    for client in buyers:
        pack = rng.choice(packs)
        bought = now - timedelta(days=rng.randint(1, 40))
        used = rng.randint(0, pack.credits - 1)
        credits.append(
            CreditGrant(
                client=client,
                pack=pack,
                kind=pack.kind,
                granted=pack.credits,
                remaining=pack.credits - used,
                expires_at=bought + timedelta(days=pack.expiry_days or 365),
            )
        )
        payments.append(
            Payment(
                client=client,
                kind=PaymentKind.OFFLINE_CASH,
                amount=pack.price,
                currency=currency,
                description=pack.name,
                recorded_by=owner,
                paid_at=bought,
            )
        )
    CreditGrant.objects.bulk_create(credits)
    Payment.objects.bulk_create(payments)
    return {
        "plans": len(plans),
        "packs": len(packs),
        "memberships": len(memberships),
        "credit packs": len(credits),
        "payments": len(payments),
    }
