"""Subscribing through Checkout on the platform's own Stripe account (the fake Stripe on
loopback, localstripe behind it), then Stripe's events bringing the gym back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.platform_billing.models import GymSubscription
from tests.platform_billing.conftest import event_payload, platform_deliver, standing_set

pytestmark = pytest.mark.django_db


def test_subscribe_goes_through_the_platform_account(
    billing_on, stripe_fake, gym_a, plan, owner_client_a, public_client
):
    standing_set(gym_a, status="past_due", lapsed_days_ago=20)
    response = owner_client_a.post("/billing/subscription/subscribe/", {"plan": plan.pk})
    assert response.status_code == 302
    assert "/pay/cs_test" in response["Location"]
    calls = stripe_fake.calls("/v1/checkout/sessions")
    assert calls
    # The platform's own account: no Stripe-Account header on any call.
    assert {account for _method, _path, account in stripe_fake.requests} == {None}
    session = next(iter(stripe_fake.sessions.values()))
    assert session["metadata"]["platform_gym"] == str(gym_a.pk)
    row = GymSubscription.objects.get(gym=gym_a)
    assert row.stripe_customer_id.startswith("cus_")

    created = event_payload(
        "customer.subscription.created",
        {
            "object": "subscription",
            "id": "sub_new",
            "status": "active",
            "customer": row.stripe_customer_id,
            "metadata": {"platform_gym": str(gym_a.pk)},
            "current_period_end": int(timezone.now().timestamp()) + 30 * 86400,
            "items": {"data": [{"price": {"id": plan.stripe_price_id}}]},
        },
    )
    assert platform_deliver(public_client, created).status_code == 200
    row.refresh_from_db()
    assert row.status == "active"
    assert row.stripe_subscription_id == "sub_new"
    assert row.plan == plan
    assert row.lapsed_at is None
    assert owner_client_a.post(
        "/clients/new/", {"first_name": "A", "last_name": "B"}
    ).status_code in (
        200,
        302,
    )


def test_subscribe_of_gym_b_is_refused_to_owner_of_a(
    billing_on, stripe_fake, gym_b, plan, owner_client_a
):
    # The page acts on the host's gym only: there is no way to name another gym.
    response = owner_client_a.post(
        "/billing/subscription/subscribe/", {"plan": plan.pk, "gym": gym_b.pk}
    )
    assert not GymSubscription.objects.filter(gym=gym_b).exists()
    assert response.status_code in (302, 200)


def test_a_tier_too_small_for_the_gym_is_refused(billing_on, stripe_fake, gym_a, owner_client_a):
    from django_tenants.utils import tenant_context

    from apps.crm.models import Client
    from apps.platform_billing.models import PlatformPlan

    tiny = PlatformPlan.objects.create(
        code="tiny", name="Tiny", max_active_clients=0, amount=100, stripe_price_id="price_tiny"
    )
    with tenant_context(gym_a):
        Client.objects.create(first_name="Ann", last_name="Active", status="active")
    page = owner_client_a.get("/billing/subscription/")
    assert b"Too small for your gym" in page.content
    response = owner_client_a.post("/billing/subscription/subscribe/", {"plan": tiny.pk})
    assert response.status_code == 302
    assert response["Location"] == "/billing/subscription/"
    assert not stripe_fake.calls("/v1/checkout/sessions")


def test_update_card_opens_the_platform_customer_portal(
    billing_on, stripe_fake, gym_a, owner_client_a
):
    standing_set(gym_a, status="past_due", lapsed_days_ago=1, stripe_subscription_id="sub_a")
    page = owner_client_a.get("/billing/subscription/")
    assert b'data-testid="platform-update-card"' in page.content
    response = owner_client_a.post("/billing/subscription/card/")
    assert response.status_code == 302
    assert stripe_fake.calls("/v1/billing_portal/sessions")
    assert {account for _method, _path, account in stripe_fake.requests} == {None}
