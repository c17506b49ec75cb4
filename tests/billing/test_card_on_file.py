"""Staff sell from the client's profile with the card Stripe keeps for them (charged at once,
the client not present) or send a Stripe Checkout link; against localstripe and our fake of
what it lacks (tests/fakes/stripe_connect.py), with nothing of ours mocked.

A card sale writes what the webhooks would write (the payment, the credits or membership),
keyed by Stripe's ids, so the events about it that follow add nothing. No card, a decline and
a card that needs the client to authenticate (3-D Secure) are each a 400 naming
`payment_kind` with nothing written; a Checkout link is emailed and paying it gives the
credits, and the card used is kept for later."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as DjangoClient
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing import services, stripe_gateway
from apps.billing.models import CreditGrant, Membership, MembershipStatus, Payment, PaymentKind
from tests.billing.conftest import deliver, event_payload
from tests.billing.factories import make_pack, make_plan
from tests.billing.test_pages import browser_as
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, api_as, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401

BASE = "/api/v1/billing/"
VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then every charge is declined
NEEDS_3DS = "4000002500003155"  # every charge asks the client to authenticate


@pytest.fixture
def public(db):  # type: ignore[no-untyped-def]
    return DjangoClient(HTTP_HOST="localhost")


@pytest.fixture
def account_a(stripe_fake: FakeStripeConnect, crm_a: CrmGym):  # type: ignore[no-untyped-def]  # noqa: F811
    return connect(stripe_fake, crm_a.gym)


def save_card(fake: FakeStripeConnect, crm: CrmGym, number: str = VISA) -> str:
    """A card on file for Ann at the gym's Stripe account: her default payment method."""
    customer = stripe_gateway.customer_ensure(gym=crm.gym, client=crm.ann)
    method = fake.save_card(customer, number)
    stripe_gateway.gym_client(crm.gym).v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": method}}
    )
    return method


def written(crm: CrmGym) -> tuple[int, int, int]:
    with tenant_context(crm.gym):
        return (
            Payment.objects.count(),
            CreditGrant.objects.count(),
            Membership.objects.count(),
        )


def stripe_plan(crm: CrmGym, **fields: Any) -> Any:
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=crm.gym, name="Unlimited", amount=6000, currency="EUR", interval="month"
    )
    with tenant_context(crm.gym):
        return make_plan(crm.owner, stripe_price_id=price_id, **fields)


def test_a_pack_on_the_card_on_file_is_paid_and_granted_once_whatever_the_webhooks_say(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, price=9000)
    method = save_card(stripe_fake, crm_a)
    body = {"client": crm_a.ann.pk, "pack": pack.pk, "payment_kind": "card_on_file"}
    response = api_as("desk").post(
        BASE + "credits/", body, format="json", HTTP_IDEMPOTENCY_KEY="card-sale-1"
    )
    assert response.status_code == 201, response.content
    assert response.json()["remaining"] == pack.credits
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get()
        assert (payment.kind, payment.amount, payment.client) == (
            PaymentKind.CARD,
            9000,
            crm_a.ann,
        )
        assert payment.stripe_id.startswith("pi_")
        assert payment.stripe_charge_id.startswith("ch_")
        assert payment.recorded_by == crm_a.desk
        assert AuditEvent.objects.filter(action="credits.granted").count() == 1
    # Charged off-session, to the saved card, on gym A's account, once.
    asked = stripe_fake.created_with[payment.stripe_id]
    assert (asked["confirm"], asked["off_session"], asked["payment_method"]) == (
        "true",
        "true",
        method,
    )
    assert [c for c in stripe_fake.calls("/v1/payment_intents") if c[0] == "POST"] == [
        ("POST", "/v1/payment_intents", account_a.account_id)
    ]
    # Stripe then tells us about the payment, twice: it is ours already.
    intent = (
        stripe_gateway.gym_client(crm_a.gym).v1.payment_intents.retrieve(payment.stripe_id)
    ).to_dict()
    assert intent["metadata"]["pack"] == str(pack.pk)
    payload = event_payload("payment_intent.succeeded", intent, account=account_a.account_id)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    assert written(crm_a) == (1, 1, 0)
    # The same request again (its Idempotency-Key): the same answer, no second charge.
    again = api_as("desk").post(
        BASE + "credits/", body, format="json", HTTP_IDEMPOTENCY_KEY="card-sale-1"
    )
    assert again.json() == response.json()
    assert written(crm_a) == (1, 1, 0)
    # The profile shows the card on file, as the sale learnt it (Stripe is not asked).
    stripe_fake.requests.clear()
    page = browser_as(crm_a, "desk").get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert "Card on file: Visa ending 4242" in page
    assert stripe_fake.requests == []


def test_the_webhook_completes_a_card_sale_whose_own_write_never_happened(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, price=4000)
    method = save_card(stripe_fake, crm_a)
    customer = stripe_gateway.customer_find(gym=crm_a.gym, client=crm_a.ann)
    intent = stripe_gateway.payment_intent_off_session(
        gym=crm_a.gym,
        customer_id=customer,
        payment_method_id=method,
        amount=4000,
        currency="EUR",
        idempotency_key="lost-sale",
        metadata={"client": crm_a.ann.pk, "pack": pack.pk},
    )
    payload = event_payload("payment_intent.succeeded", intent, account=account_a.account_id)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        credit = CreditGrant.objects.get()
        assert credit.client == crm_a.ann
        payment = Payment.objects.get()
        assert payment.stripe_id == intent["id"]
        assert payment.card_last4 == "4242"  # read from the intent's payment method


def test_a_plan_on_the_card_on_file_from_the_profile_gives_one_membership(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    plan = stripe_plan(crm_a)
    save_card(stripe_fake, crm_a)
    desk = browser_as(crm_a, "desk")
    response = desk.post(
        f"/billing/clients/{crm_a.ann.pk}/sell-plan/",
        {"plan-plan": plan.pk, "plan-payment_kind": "card_on_file"},
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        membership = Membership.objects.get()
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.stripe_subscription_id.startswith("sub_")
        payment = Payment.objects.get()
        assert payment.membership == membership
        assert payment.amount == 6000
        assert payment.stripe_id.startswith("in_")
        assert payment.card_last4 == "4242"
        sold = AuditEvent.objects.get(action="membership.sold")
        assert sold.actor_id == crm_a.desk.pk
    connection.set_schema_to_public()
    gateway = stripe_gateway.gym_client(crm_a.gym)
    subscription = gateway.v1.subscriptions.retrieve(membership.stripe_subscription_id).to_dict()
    invoice = gateway.v1.invoices.retrieve(payment.stripe_id).to_dict()
    account = account_a.account_id
    created = event_payload("customer.subscription.created", subscription, account=account)
    paid = event_payload("invoice.paid", invoice, account=account)
    for payload in (paid, created, paid, created):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    assert written(crm_a) == (1, 0, 1)
    page = desk.get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert "Membership sold." in page


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (None, "no card on file"),
        (DECLINED, "declined"),
        (NEEDS_3DS, "confirm this payment"),
    ],
)
def test_no_card_a_decline_or_3d_secure_is_a_400_on_payment_kind_and_nothing_is_written(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    number: str | None,
    words: str,
) -> None:
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner)
    plan = stripe_plan(crm_a)
    if number:
        save_card(stripe_fake, crm_a, number)
    desk = api_as("desk")
    for path, item in (("credits/", {"pack": pack.pk}), ("memberships/", {"plan": plan.pk})):
        body = {"client": crm_a.ann.pk, "payment_kind": "card_on_file", **item}
        response = desk.post(BASE + path, body, format="json")
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert list(errors) == ["payment_kind"], errors
        message = " ".join(errors["payment_kind"]).lower()
        assert words in message, message
        if number != DECLINED:
            assert "checkout link" in message
    assert written(crm_a) == (0, 0, 0)
    if number == NEEDS_3DS:
        # Not left waiting for the client at Stripe: cancelled.
        intents = [c for c in stripe_fake.calls("/v1/payment_intents/") if "/cancel" in c[1]]
        assert intents


def test_a_checkout_link_is_emailed_and_paying_it_gives_the_credits_and_keeps_the_card(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=crm_a.gym, name="Ten classes", amount=9000, currency="EUR"
    )
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, stripe_price_id=price_id)
    body = {"client": crm_a.ann.pk, "pack": pack.pk, "payment_kind": "checkout_link"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("desk").post(BASE + "credits/", body, format="json")
    assert response.status_code == 202, response.content
    url = response.json()["checkout_url"]
    session_id = url.rsplit("/", 1)[-1]
    session = stripe_fake.sessions[session_id]
    assert session["stripe_account"] == account_a.account_id
    assert session["requested"]["payment_intent_data"]["setup_future_usage"] == "off_session"
    (email,) = mail.outbox
    assert email.to == [crm_a.ann.email]
    assert url in email.body
    assert written(crm_a) == (0, 0, 0)  # nothing until the client pays
    # The client opens the link: Stripe's hosted page for that price, and pays.
    with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310 - the fake on loopback
        assert price_id in page.read().decode()
    paid = stripe_fake.pay(session_id)
    payload = event_payload("checkout.session.completed", paid, account=account_a.account_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        credit = CreditGrant.objects.get()
        assert (credit.client, credit.remaining) == (crm_a.ann, pack.credits)
    # The card they paid with is on file now: the desk sells the next pack with it.
    card = stripe_gateway.customer_card_on_file(gym=crm_a.gym, client=crm_a.ann)
    assert card is not None
    assert card["last4"] == "4242"
    with tenant_context(crm_a.gym):
        again = services.pack_sell_card_on_file(actor=crm_a.desk, client=crm_a.ann, pack=pack)
        assert again.remaining == pack.credits
        assert Payment.objects.filter(kind=PaymentKind.CARD).count() == 2


def test_the_profile_sends_a_link_and_shows_it_to_the_desk(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    plan = stripe_plan(crm_a)
    desk = browser_as(crm_a, "desk")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"/billing/clients/{crm_a.ann.pk}/sell-plan/",
            {"plan-plan": plan.pk, "plan-payment_kind": "checkout_link"},
            follow=True,
        )
    page = response.content.decode()
    session = list(stripe_fake.sessions.values())[-1]
    assert session["mode"] == "subscription"
    assert "Checkout link sent to the client." in page
    assert 'data-testid="checkout-link"' in page
    assert f'value="{session["url"]}"' in page
    assert len(mail.outbox) == 1
    assert written(crm_a) == (0, 0, 0)
    # Shown once: the next view of the profile has no link.
    page = desk.get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert 'data-testid="checkout-link"' not in page


def test_portal_purchases_of_packs_keep_the_card(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
) -> None:
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=crm_a.gym, name="Five", amount=4500, currency="EUR"
    )
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, stripe_price_id=price_id)
    cara = browser_as(crm_a, "cara")
    response = cara.post("/portal/memberships/buy/", {"pack": pack.pk})
    assert response.status_code == 303
    session = list(stripe_fake.sessions.values())[-1]
    assert session["requested"]["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert response["Location"] == session["url"]


def test_gym_a_cannot_sell_to_or_charge_gym_b_clients(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
) -> None:
    from apps.crm.models import Client

    account_b = connect(stripe_fake, crm_b.gym)
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner)
        stranger_pk = Client.objects.order_by("-pk").first().pk + 1000
    with tenant_context(crm_b.gym):
        # A client of gym B only: no client of gym A has this id.
        stranger = Client.objects.create(
            pk=stranger_pk, first_name="Zed", last_name="Bee", email="zed@b.example"
        )
    customer_b = stripe_gateway.customer_ensure(gym=crm_b.gym, client=stranger)
    stripe_fake.save_card(customer_b)
    stripe_fake.requests.clear()
    body = {"client": stranger_pk, "pack": pack.pk, "payment_kind": "card_on_file"}
    response = api_as("desk").post(BASE + "credits/", body, format="json")
    assert response.status_code == 400
    assert "client" in response.json()["errors"]
    body["payment_kind"] = "checkout_link"
    assert api_as("desk").post(BASE + "credits/", body, format="json").status_code == 400
    desk = browser_as(crm_a, "desk")
    for kind in ("card_on_file", "checkout_link"):
        response = desk.post(
            f"/billing/clients/{stranger_pk}/sell-pack/",
            {"pack-pack": pack.pk, "pack-payment_kind": kind},
        )
        assert response.status_code == 404
    # Nothing asked of either gym's Stripe account, nothing written in either gym.
    assert not [c for c in stripe_fake.requests if c[0] == "POST"]
    assert not stripe_fake.sessions or all(
        s["stripe_account"] != account_b.account_id for s in stripe_fake.sessions.values()
    )
    assert written(crm_a) == (0, 0, 0)
    assert written(crm_b) == (0, 0, 0)
