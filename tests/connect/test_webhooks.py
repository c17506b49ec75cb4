"""The one Stripe webhook endpoint: signatures verified with a real secret (bad ones and stale
timestamps refused, nothing stored), each event stored once and processed once in the gym of
its connected account, deliveries repeated and out of order with one effect, decided from the
object's state at Stripe (localstripe) rather than from the event."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing import stripe_gateway
from apps.billing.models import Membership, MembershipStatus, Payment, PaymentStatus
from apps.connect import services as connect_services
from apps.connect.models import ConnectedAccount, StripeEvent, StripeEventStatus
from tests.billing.conftest import TEST_CARD, deliver, event_payload, sign
from tests.billing.factories import make_plan
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


@pytest.fixture
def public(db):  # type: ignore[no-untyped-def]
    from django.test import Client

    return Client(HTTP_HOST="localhost")


def _subscription(crm: CrmGym, *, client: Any = None) -> tuple[Any, dict[str, Any]]:
    """A plan of the gym with its Stripe price, and a live subscription to it at Stripe for
    one of the gym's clients."""
    client = client or crm.ann
    gateway = stripe_gateway.gym_client(crm.gym)
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=crm.gym, name="Unlimited", amount=6000, currency="GBP", interval="month"
    )
    with tenant_context(crm.gym):
        plan = make_plan(crm.owner, stripe_price_id=price_id)
    connection.set_schema_to_public()
    customer = gateway.v1.customers.create({"email": client.email, "source": TEST_CARD})
    subscription = gateway.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": price_id}],
            "metadata": {"client": str(client.pk), "plan": str(plan.pk), "gym": crm.gym.subdomain},
        }
    )
    return plan, subscription.to_dict()


# --- Signatures --------------------------------------------------------------------------------


def test_a_signed_event_is_stored_and_answered_200(public, stripe_fake, account_a) -> None:
    payload = event_payload(
        "customer.created", {"id": "cus_1", "object": "customer"}, account=account_a.account_id
    )
    response = deliver(public, payload)
    assert response.status_code == 200
    event = StripeEvent.objects.get(event_id=payload["id"])
    assert event.account == account_a.account_id


def test_a_bad_signature_is_refused_and_nothing_stored(public, stripe_fake) -> None:
    payload = event_payload("invoice.paid", {"id": "in_1", "object": "invoice"})
    assert deliver(public, payload, secret="whsec_someone_else").status_code == 400
    body = json.dumps(payload).encode()
    missing = public.post(
        "/integrations/stripe/webhook/", data=body, content_type="application/json"
    )
    assert missing.status_code == 400
    tampered = public.post(
        "/integrations/stripe/webhook/",
        data=body.replace(b"in_1", b"in_2"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body),
    )
    assert tampered.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_stale_timestamp_is_refused(public, stripe_fake) -> None:
    payload = event_payload("invoice.paid", {"id": "in_1", "object": "invoice"})
    old = int(time.time()) - 301
    assert deliver(public, payload, timestamp=old).status_code == 400
    assert not StripeEvent.objects.exists()
    # Within the 300 s tolerance it is fine.
    assert deliver(public, payload, timestamp=int(time.time()) - 250).status_code == 200


def test_no_secret_configured_refuses_everything(public, stripe_fake, settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event_payload("invoice.paid", {"id": "in_1", "object": "invoice"})
    assert deliver(public, payload).status_code == 400
    assert not StripeEvent.objects.exists()


def test_not_json_or_not_an_event_is_refused(public, stripe_fake) -> None:
    for body in (b"not json", json.dumps({"id": "x", "type": "invoice.paid"}).encode()):
        response = public.post(
            "/integrations/stripe/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body),
        )
        assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_endpoint_is_on_the_public_host_only(client_a, stripe_fake) -> None:
    payload = event_payload("invoice.paid", {"id": "in_1", "object": "invoice"})
    assert deliver(client_a, payload).status_code == 404


def test_get_is_not_allowed(public) -> None:
    assert public.get("/integrations/stripe/webhook/").status_code == 405


def test_an_unknown_event_is_stored_and_ignored(
    public,
    stripe_fake,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    payload = event_payload(
        "customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}, account=account_a.account_id
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert deliver(public, payload).status_code == 200
    assert callbacks == []
    event = StripeEvent.objects.get(event_id=payload["id"])
    assert event.status == StripeEventStatus.IGNORED
    assert stripe_fake.requests == []


# --- Exactly once, in the right gym ------------------------------------------------------------


def test_subscription_events_twice_and_out_of_order_have_one_effect(
    public,
    stripe_fake,
    crm_a: CrmGym,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    plan, subscription = _subscription(crm_a)
    account = account_a.account_id
    created = event_payload("customer.subscription.created", subscription, account=account)
    gateway = stripe_gateway.gym_client(crm_a.gym)
    cancelled = gateway.v1.subscriptions.cancel(subscription["id"]).to_dict()
    deleted = event_payload("customer.subscription.deleted", cancelled, account=account)
    # Stripe sends created then deleted; they arrive deleted first, and each twice.
    for payload in (deleted, created, deleted, created):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    assert StripeEvent.objects.filter(account=account).count() == 2
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    with tenant_context(crm_a.gym):
        membership = Membership.objects.get()
        # The later-delivered "created" did not bring the cancelled membership back.
        assert membership.status == MembershipStatus.CANCELLED
        assert membership.client == crm_a.ann
        assert membership.plan == plan
        assert AuditEvent.objects.filter(action="membership.created_from_stripe").count() == 1


def test_invoice_events_twice_and_out_of_order_have_one_payment(
    public,
    stripe_fake,
    crm_a: CrmGym,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    with django_capture_on_commit_callbacks(execute=True):
        deliver(
            public, event_payload("customer.subscription.created", subscription, account=account)
        )
    gateway = stripe_gateway.gym_client(crm_a.gym)
    invoice = gateway.v1.invoices.retrieve(subscription["latest_invoice"]).to_dict()
    assert invoice["status"] == "paid"
    # The first attempt failed, the retry was paid; the failure's event arrives last.
    failed = event_payload("invoice.payment_failed", {**invoice, "status": "open"}, account=account)
    paid = event_payload("invoice.paid", invoice, account=account)
    for payload in (paid, failed, paid, failed):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.SUCCEEDED
        assert payment.amount == 6000
        assert payment.stripe_id == invoice["id"]
        assert Membership.objects.get().status == MembershipStatus.ACTIVE


def test_an_event_for_gym_a_never_touches_gym_b(
    public,
    stripe_fake,
    crm_a: CrmGym,
    crm_b: CrmGym,
    account_a,
    account_b,
    django_capture_on_commit_callbacks,
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    now = int(time.time())
    # Even with metadata naming gym B and B's client, the account decides; the event after it
    # (delivered first) makes the object read back from Stripe, with gym A's account only.
    forged = {**subscription, "metadata": {"gym": crm_b.gym.subdomain, "client": str(crm_b.ann.pk)}}
    real = event_payload(
        "customer.subscription.created", subscription, account=account, created=now
    )
    payload = event_payload("customer.subscription.updated", forged, account=account, created=now)
    for each in (real, payload):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, each).status_code == 200
    event = StripeEvent.objects.get(event_id=payload["id"])
    assert event.gym == crm_a.gym
    assert event.status == StripeEventStatus.PROCESSED
    reads = [c for c in stripe_fake.requests if c[0] == "GET" and subscription["id"] in c[1]]
    assert reads
    assert {call[2] for call in reads} == {account}
    assert all(call[2] != account_b.account_id for call in stripe_fake.requests)
    with tenant_context(crm_b.gym):
        assert not Membership.objects.exists()
    with tenant_context(crm_a.gym):
        assert Membership.objects.get().client == crm_a.ann


def test_an_event_of_an_unknown_account_is_ignored(
    public,
    stripe_fake,
    django_capture_on_commit_callbacks,
) -> None:
    payload = event_payload(
        "invoice.paid", {"id": "in_x", "object": "invoice"}, account="acct_nobody"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    event = StripeEvent.objects.get(event_id=payload["id"])
    assert event.status == StripeEventStatus.IGNORED
    assert event.gym is None


def test_direct_mode_routes_by_metadata_or_the_configured_gym(
    public,
    stripe_fake,
    crm_a: CrmGym,
    settings,
    django_capture_on_commit_callbacks,
) -> None:
    settings.STRIPE_MODE = "direct"
    settings.STRIPE_DIRECT_GYM = crm_a.gym.subdomain
    _, subscription = _subscription(crm_a)
    payload = event_payload(
        "customer.subscription.created", {**subscription, "metadata": {"client": str(crm_a.ann.pk)}}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    assert StripeEvent.objects.get(event_id=payload["id"]).gym == crm_a.gym
    with tenant_context(crm_a.gym):
        assert Membership.objects.get().client == crm_a.ann


def test_a_failure_is_recorded_retried_and_shown_on_the_account(
    stripe_fake,
    crm_a: CrmGym,
    account_a,
    monkeypatch,
) -> None:
    payload = event_payload(
        "customer.subscription.updated",
        {"id": "sub_missing", "object": "subscription", "metadata": {}},
        account=account_a.account_id,
    )
    body = json.dumps(payload).encode()
    event, created = connect_services.stripe_event_receive(payload=body, signature=sign(body))
    assert created
    with pytest.raises(Exception):  # noqa: B017, PT011
        connect_services.stripe_event_process(event_pk=event.pk)
    event.refresh_from_db()
    assert event.status == StripeEventStatus.FAILED
    assert event.attempts == 1
    assert event.last_error
    account_a.refresh_from_db()
    assert account_a.last_error
    # A retry of an event that still fails does not pile up effects, and one processed is
    # never processed again.
    monkeypatch.setitem(
        connect_services.HANDLERS, "customer.subscription.updated", lambda **kwargs: None
    )
    assert connect_services.stripe_event_process(event_pk=event.pk) == "processed"
    assert connect_services.stripe_event_process(event_pk=event.pk) == "processed"
    event.refresh_from_db()
    assert event.attempts == 2


def test_account_updated_refreshes_the_connected_account(
    public,
    stripe_fake,
    account_a: ConnectedAccount,
    django_capture_on_commit_callbacks,
) -> None:
    stripe_fake.accounts[account_a.account_id].update(
        {"charges_enabled": False, "payouts_enabled": False}
    )
    payload = event_payload(
        "account.updated",
        {"id": account_a.account_id, "object": "account", "charges_enabled": True},
        account=account_a.account_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    account_a.refresh_from_db()
    # Stripe's current state, not the event's copy.
    assert account_a.charges_enabled is False
    assert account_a.last_event_at is not None


def test_deauthorized_disconnects_the_account(
    public,
    stripe_fake,
    account_a: ConnectedAccount,
    gym_a,
    django_capture_on_commit_callbacks,
) -> None:
    payload = event_payload(
        "account.application.deauthorized",
        {"id": "ca_test", "object": "application"},
        account=account_a.account_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    account_a.refresh_from_db()
    assert account_a.disconnected_at is not None
    with tenant_context(gym_a):
        assert AuditEvent.objects.filter(action="billing.stripe_deauthorized").exists()


def test_an_invoice_before_its_subscription_still_makes_one_membership_and_payment(
    public, stripe_fake, crm_a: CrmGym, account_a, django_capture_on_commit_callbacks
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    invoice = stripe_gateway.gym_client(crm_a.gym).v1.invoices.retrieve(
        subscription["latest_invoice"]
    )
    paid = event_payload("invoice.paid", invoice.to_dict(), account=account)
    created = event_payload("customer.subscription.created", subscription, account=account)
    for payload in (paid, created, paid):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        membership = Membership.objects.get()
        payment = Payment.objects.get()
        assert payment.membership == membership
        assert payment.client == crm_a.ann
        assert AuditEvent.objects.filter(action="membership.created_from_stripe").count() == 1


def test_a_paid_pack_checkout_grants_its_credits_once(
    public, stripe_fake, crm_a: CrmGym, account_a, django_capture_on_commit_callbacks
) -> None:
    from apps.billing.models import CreditGrant
    from tests.billing.factories import make_pack

    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, stripe_price_id="price_pack")
    connection.set_schema_to_public()
    session = stripe_gateway.checkout_session_create(
        gym=crm_a.gym,
        client=crm_a.ann,
        line_items=[{"price": "price_pack", "quantity": 1}],
        mode="payment",
        success_url="http://alpha.localhost/portal/?paid=1",
        cancel_url="http://alpha.localhost/portal/",
        metadata={"pack": pack.pk},
    )
    account = account_a.account_id
    # Delivered while the client is still on Stripe's page (open, unpaid): nothing yet.
    early = event_payload(
        "checkout.session.completed", stripe_fake.sessions[session.id], account=account
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(public, early)
    with tenant_context(crm_a.gym):
        assert not CreditGrant.objects.exists()
    connection.set_schema_to_public()
    paid = stripe_fake.complete_checkout(session.id, amount_total=9000, currency="gbp")
    completed = event_payload("checkout.session.completed", paid, account=account)
    for payload in (completed, completed):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        credit = CreditGrant.objects.get()
        assert credit.client == crm_a.ann
        assert credit.remaining == pack.credits
        assert Payment.objects.get().stripe_id == paid["payment_intent"]


# --- Applied from the event's copy unless something newer was applied --------------------------


def _receive(payload: dict[str, Any]) -> StripeEvent:
    body = json.dumps(payload).encode()
    event, _ = connect_services.stripe_event_receive(payload=body, signature=sign(body))
    return event


def test_in_order_events_use_their_own_copy_and_a_stale_one_reads_stripe(
    stripe_fake, crm_a: CrmGym, account_a, django_assert_max_num_queries
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    now = int(time.time())
    created = _receive(
        event_payload("customer.subscription.created", subscription, account=account, created=now)
    )
    gateway = stripe_gateway.gym_client(crm_a.gym)
    cancelled = gateway.v1.subscriptions.cancel(subscription["id"]).to_dict()
    deleted = _receive(
        event_payload("customer.subscription.deleted", cancelled, account=account, created=now + 5)
    )
    # An update Stripe sent between the two, delivered last with the state it had then.
    updated = _receive(
        event_payload(
            "customer.subscription.updated", subscription, account=account, created=now + 2
        )
    )
    assert updated.object_id == subscription["id"]
    stripe_fake.requests.clear()
    # Making the membership: the client and plan are read once (the test's own transaction
    # adds a savepoint).
    with django_assert_max_num_queries(19):
        assert connect_services.stripe_event_process(event_pk=created.pk) == "processed"
    with django_assert_max_num_queries(14):
        assert connect_services.stripe_event_process(event_pk=deleted.pk) == "processed"
    # Neither read the subscription back: each was the newest about it.
    assert not [call for call in stripe_fake.requests if "/v1/subscriptions/" in call[1]]
    assert connect_services.stripe_event_process(event_pk=updated.pk) == "processed"
    # The update's copy says active, but a newer event was applied: Stripe's state decides.
    assert [call for call in stripe_fake.requests if "/v1/subscriptions/" in call[1]]
    with tenant_context(crm_a.gym):
        assert Membership.objects.get().status == MembershipStatus.CANCELLED


def test_a_backlog_is_applied_in_the_order_stripe_created_it(
    stripe_fake, crm_a: CrmGym, account_a
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    now = int(time.time())
    gateway = stripe_gateway.gym_client(crm_a.gym)
    cancelled = gateway.v1.subscriptions.cancel(subscription["id"]).to_dict()
    # Arrived newest first, a second time, and with one for an account nobody connected.
    for payload in (
        event_payload("customer.subscription.deleted", cancelled, account=account, created=now),
        event_payload(
            "customer.subscription.updated", subscription, account=account, created=now - 5
        ),
        event_payload(
            "customer.subscription.created", subscription, account=account, created=now - 9
        ),
        event_payload("invoice.paid", {"id": "in_x", "object": "invoice"}, account="acct_none"),
    ):
        _receive(payload)
        _receive(payload)
    stripe_fake.requests.clear()
    counts = connect_services.stripe_events_process_pending()
    assert counts == {"processed": 3, "ignored": 1}
    assert not [call for call in stripe_fake.requests if "/v1/subscriptions/" in call[1]]
    assert connect_services.stripe_events_process_pending() == {}
    with tenant_context(crm_a.gym):
        assert Membership.objects.get().status == MembershipStatus.CANCELLED
        assert AuditEvent.objects.filter(action="membership.created_from_stripe").count() == 1
    account_a.refresh_from_db()
    assert account_a.last_event_at is not None


# --- Refunds made in Stripe's dashboard ---------------------------------------------------------


def _without_refunds(charge: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in charge.items() if key != "refunds"}


def test_dashboard_refunds_raise_the_payments_refunded_amount_once(
    public, stripe_fake, crm_a: CrmGym, account_a, django_capture_on_commit_callbacks
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    gateway = stripe_gateway.gym_client(crm_a.gym)
    invoice = gateway.v1.invoices.retrieve(subscription["latest_invoice"]).to_dict()
    now = int(time.time())
    for payload in (
        event_payload("customer.subscription.created", subscription, account=account, created=now),
        event_payload("invoice.paid", invoice, account=account, created=now),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(public, payload)
    # localstripe expands the invoice's charge.
    charge_id = invoice["charge"]["id"]
    # Two partial refunds made in the gym's Stripe dashboard; each sends charge.refunded with
    # the charge as it was then. The second arrives first, and each twice.
    # Events leave the charge's refunds out (Stripe's API since 2022-11-15).
    gateway.v1.refunds.create({"charge": charge_id, "amount": 1000})
    first = _without_refunds(gateway.v1.charges.retrieve(charge_id).to_dict())
    gateway.v1.refunds.create({"charge": charge_id, "amount": 500})
    second = _without_refunds(gateway.v1.charges.retrieve(charge_id).to_dict())
    one = event_payload("charge.refunded", first, account=account, created=now + 10)
    two = event_payload("charge.refunded", second, account=account, created=now + 20)
    for payload in (two, one, two, one):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    assert set(
        StripeEvent.objects.filter(type="charge.refunded").values_list("status", flat=True)
    ) == {"processed"}
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get(stripe_id=invoice["id"])
        assert payment.refunded_amount == 1500
        assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
        refunds = Payment.objects.filter(refund_of=payment)
        assert sorted(refunds.values_list("amount", flat=True)) == [500, 1000]
        assert AuditEvent.objects.filter(action="payment.refunded").count() == 2


def test_a_refund_before_its_invoice_records_the_invoice_then_the_refund(
    public, stripe_fake, crm_a: CrmGym, account_a, django_capture_on_commit_callbacks
) -> None:
    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    gateway = stripe_gateway.gym_client(crm_a.gym)
    invoice = gateway.v1.invoices.retrieve(subscription["latest_invoice"]).to_dict()
    charge_id = invoice["charge"]["id"]
    gateway.v1.refunds.create({"charge": charge_id})
    # As older API versions send it: the charge names its invoice.
    charge = {
        **_without_refunds(gateway.v1.charges.retrieve(charge_id).to_dict()),
        "invoice": invoice["id"],
    }
    now = int(time.time())
    for payload in (
        event_payload("charge.refunded", charge, account=account, created=now + 5),
        event_payload("invoice.paid", invoice, account=account, created=now),
        event_payload("customer.subscription.created", subscription, account=account, created=now),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get(stripe_id=invoice["id"])
        assert (payment.refunded_amount, payment.status) == (6000, PaymentStatus.REFUNDED)
        assert Payment.objects.filter(refund_of=payment).count() == 1
        assert Membership.objects.count() == 1


def test_the_sweep_takes_only_events_whose_task_was_lost(
    stripe_fake, crm_a: CrmGym, account_a
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.connect.tasks import STUCK_AFTER, stripe_events_sweep

    _, subscription = _subscription(crm_a)
    account = account_a.account_id
    lost = _receive(event_payload("customer.subscription.created", subscription, account=account))
    fresh = _receive(event_payload("customer.subscription.updated", subscription, account=account))
    StripeEvent.objects.filter(pk=lost.pk).update(
        received_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1)
    )
    assert stripe_events_sweep() == {"processed": 1}
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.status, fresh.status) == ("processed", "received")
