"""The Stripe client plumbing against localstripe behind our Connect fake: every call for a
gym carries its connected account, direct mode uses the environment's keys, 429s are retried
after Retry-After, and the catalogue, Checkout, portal and refund calls speak Stripe."""

from __future__ import annotations

import pytest
import stripe

from apps.billing import stripe_gateway
from apps.connect.models import ConnectedAccount
from tests.billing.conftest import TEST_CARD, localstripe_url, stripe_fake, stripe_fake_server  # noqa: F401
from tests.connect.conftest import account_a, account_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect

pytestmark = pytest.mark.django_db


class FakeClient:
    """Enough of a CRM client for the gateway (it reads pk, email and str())."""

    def __init__(self, pk: int, email: str) -> None:
        self.pk = pk
        self.email = email

    def __str__(self) -> str:
        return self.email


def test_calls_for_a_gym_carry_its_connected_account(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
    account_b: ConnectedAccount,  # noqa: F811
) -> None:
    customer_id = stripe_gateway.customer_ensure(gym=gym_a, client=FakeClient(7, "c7@example.com"))
    assert customer_id.startswith("cus_")
    posts = [call for call in stripe_fake.calls("/v1/customers") if call[0] == "POST"]
    assert posts
    assert all(call[2] == account_a.account_id for call in posts)
    assert not any(call[2] == account_b.account_id for call in stripe_fake.requests)


def test_customer_ensure_finds_the_customer_it_made(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    client = FakeClient(8, "c8@example.com")
    first = stripe_gateway.customer_ensure(gym=gym_a, client=client)
    assert stripe_gateway.customer_ensure(gym=gym_a, client=client) == first
    assert stripe_gateway.customer_ensure(gym=gym_a, client=client, customer_id="cus_x") == "cus_x"


def test_a_gym_without_an_account_cannot_call_stripe(stripe_fake, gym_b) -> None:  # noqa: F811
    with pytest.raises(stripe_gateway.StripeNotConnectedError):
        stripe_gateway.gym_client(gym_b)


def test_direct_mode_uses_the_environments_keys(stripe_fake, gym_b, settings) -> None:  # noqa: F811
    settings.STRIPE_MODE = "direct"
    stripe_gateway.customer_ensure(gym=gym_b, client=FakeClient(9, "c9@example.com"))
    assert stripe_fake.requests
    assert all(call[2] is None for call in stripe_fake.requests)


def test_rate_limited_calls_are_retried_after_retry_after(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    stripe_fake.rate_limit_next = 2
    stripe_fake.retry_after = "0"
    product_id, price_id = stripe_gateway.catalogue_item_push(
        gym=gym_a, name="Ten classes", amount=9000, currency="GBP"
    )
    assert product_id.startswith("prod_")
    assert price_id.startswith("price_")
    assert stripe_fake.rate_limit_next == 0


def test_rate_limit_gives_up_after_the_configured_retries(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    stripe_fake.rate_limit_next = 10
    with pytest.raises(stripe.RateLimitError):
        stripe_gateway.catalogue_item_push(gym=gym_a, name="Pack", amount=100, currency="GBP")
    # The first try and STRIPE_MAX_NETWORK_RETRIES (2) retries.
    assert stripe_fake.rate_limit_next == 7


def test_retry_after_is_honoured_within_a_cap() -> None:
    assert stripe_gateway._retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert stripe_gateway._retry_after_seconds({"Retry-After": "3600"}) == 10.0
    assert stripe_gateway._retry_after_seconds({"Retry-After": "soon"}) is None
    assert stripe_gateway._retry_after_seconds({}) is None


def test_catalogue_push_makes_a_new_price_when_the_amount_changes(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    product_id, price_id = stripe_gateway.catalogue_item_push(
        gym=gym_a, name="Monthly", amount=6000, currency="GBP", interval="month"
    )
    same = stripe_gateway.catalogue_item_push(
        gym=gym_a,
        name="Monthly",
        amount=6000,
        currency="GBP",
        interval="month",
        product_id=product_id,
        price_id=price_id,
    )
    assert same == (product_id, price_id)
    _, new_price = stripe_gateway.catalogue_item_push(
        gym=gym_a,
        name="Monthly",
        amount=6500,
        currency="GBP",
        interval="month",
        product_id=product_id,
        price_id=price_id,
    )
    assert new_price != price_id
    client = stripe_gateway.gym_client(gym_a)
    assert client.v1.prices.retrieve(new_price)["unit_amount"] == 6500
    assert client.v1.prices.retrieve(price_id)["active"] is False


def test_coupon_push(stripe_fake, gym_a, account_a) -> None:  # noqa: F811
    coupon_id = stripe_gateway.coupon_push(gym=gym_a, code="SPRING", percent_off=20)
    assert stripe_gateway.gym_client(gym_a).v1.coupons.retrieve(coupon_id)["percent_off"] == 20


def test_checkout_and_portal_sessions(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    client = FakeClient(11, "c11@example.com")
    session = stripe_gateway.checkout_session_create(
        gym=gym_a,
        client=client,
        line_items=[{"price": "price_x", "quantity": 1}],
        mode="payment",
        success_url="http://alpha.localhost/portal/?paid=1",
        cancel_url="http://alpha.localhost/portal/",
        metadata={"pack": 3},
    )
    assert session.url.startswith(stripe_fake.url)
    stored = stripe_fake.sessions[session.id]
    assert stored["stripe_account"] == account_a.account_id
    assert stored["metadata"] == {"client": "11", "pack": "3", "gym": gym_a.subdomain}
    portal = stripe_gateway.customer_portal_session_create(
        gym=gym_a, client=client, return_url="http://alpha.localhost/portal/"
    )
    assert portal.url
    with pytest.raises(ValueError, match="Checkout mode"):
        stripe_gateway.checkout_session_create(
            gym=gym_a,
            client=client,
            line_items=[],
            mode="setup",
            success_url="x",
            cancel_url="y",
        )


def test_subscription_pause_resume_and_refund(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
) -> None:
    client = stripe_gateway.gym_client(gym_a)
    customer = client.v1.customers.create({"email": "sub@example.com", "source": TEST_CARD})
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=gym_a, name="Monthly", amount=5000, currency="GBP", interval="month"
    )
    subscription = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price_id}]}
    )
    paused = stripe_gateway.subscription_pause(gym=gym_a, subscription_id=subscription.id)
    assert paused["pause_collection"]["behavior"] == "void"
    resumed = stripe_gateway.subscription_resume(gym=gym_a, subscription_id=subscription.id)
    assert resumed["pause_collection"] is None
    ending = stripe_gateway.subscription_cancel(
        gym=gym_a, subscription_id=subscription.id, at_period_end=True
    )
    assert ending["cancel_at_period_end"] is True
    cancelled = stripe_gateway.subscription_cancel(
        gym=gym_a, subscription_id=subscription.id, at_period_end=False
    )
    assert cancelled["status"] == "canceled"
    charge = client.v1.charges.create({"amount": 2000, "currency": "gbp", "customer": customer.id})
    refund = stripe_gateway.refund_create(
        gym=gym_a, charge_id=charge.id, amount=500, idempotency_key="refund-test-1"
    )
    assert refund["amount"] == 500


def test_checkout_asks_the_platforms_fee_on_connect_payments(
    stripe_fake: FakeStripeConnect,  # noqa: F811
    gym_a,
    account_a: ConnectedAccount,  # noqa: F811
    settings,
) -> None:
    settings.PLATFORM_BILLING = True
    settings.PLATFORM_APPLICATION_FEE_PERCENT = "2.5"
    client = FakeClient(12, "c12@example.com")
    common = {
        "gym": gym_a,
        "client": client,
        "line_items": [{"price": "price_x", "quantity": 1}],
        "success_url": "http://alpha.localhost/portal/?paid=1",
        "cancel_url": "http://alpha.localhost/portal/",
    }
    pack = stripe_gateway.checkout_session_create(**common, mode="payment", amount=9000)
    plan = stripe_gateway.checkout_session_create(**common, mode="subscription", amount=6000)
    assert (
        stripe_fake.sessions[pack.id]["requested"]["payment_intent_data"]["application_fee_amount"]
        == "225"
    )
    assert (
        stripe_fake.sessions[plan.id]["requested"]["subscription_data"]["application_fee_percent"]
        == "2.5"
    )

    settings.PLATFORM_BILLING = False
    free = stripe_gateway.checkout_session_create(**common, mode="payment", amount=9000)
    assert (
        "application_fee_amount"
        not in stripe_fake.sessions[free.id]["requested"]["payment_intent_data"]
    )


def test_the_sdk_logs_no_info_line_per_call() -> None:
    import logging

    assert logging.getLogger("stripe").getEffectiveLevel() >= logging.WARNING
