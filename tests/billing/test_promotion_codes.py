"""Promotion codes kept in step with Stripe Coupons (pushed after each change by the catalogue's
task) and applied by Stripe at Checkout: the portal's Buy, the desk's Checkout link and the
card on file. Against localstripe and our fake of what it lacks (tests/fakes/stripe_connect.py),
nothing of ours mocked."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as DjangoClient
from django_tenants.utils import tenant_context

from apps.billing import services, stripe_gateway
from apps.billing.models import CreditGrant, Membership, Payment, PaymentKind, PromotionCode
from tests.billing.conftest import deliver, event_payload
from tests.billing.factories import make_pack, make_plan
from tests.billing.test_card_on_file import save_card
from tests.billing.test_pages import browser_as
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, api_as, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a  # noqa: F401

BASE = "/api/v1/billing/"


@pytest.fixture
def public(db):  # type: ignore[no-untyped-def]
    return DjangoClient(HTTP_HOST="localhost")


@pytest.fixture
def account_a(stripe_fake: FakeStripeConnect, crm_a: CrmGym):  # type: ignore[no-untyped-def]  # noqa: F811
    return connect(stripe_fake, crm_a.gym)


def code_create(crm: CrmGym, capture: Any, **fields: Any) -> PromotionCode:
    """A code made as the owner makes it, its Stripe push run."""
    with tenant_context(crm.gym), capture(execute=True):
        code = services.promotion_code_create(actor=crm.owner, **fields)
    return fresh(crm, code)


def code_update(crm: CrmGym, capture: Any, item: PromotionCode, **fields: Any) -> PromotionCode:
    with tenant_context(crm.gym), capture(execute=True):
        services.promotion_code_update(actor=crm.owner, promotion_code=item, **fields)
    return fresh(crm, item)


def fresh(crm: CrmGym, code: PromotionCode) -> PromotionCode:
    with tenant_context(crm.gym):
        return PromotionCode.objects.get(pk=code.pk)


def on_sale(crm: CrmGym, capture: Any, maker: Any = make_pack, **fields: Any) -> Any:
    """A pack (or plan) made by the owner and pushed to the gym's Stripe account."""
    with tenant_context(crm.gym), capture(execute=True):
        item = maker(crm.owner, **fields)
    with tenant_context(crm.gym):
        item.refresh_from_db()
    assert item.stripe_price_id
    return item


def coupon(fake: FakeStripeConnect, coupon_id: str) -> dict[str, Any] | None:
    return fake.coupon(coupon_id)


def test_a_code_keeps_one_coupon_in_step_with_its_discount(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    code = code_create(crm_a, django_capture_on_commit_callbacks, code="spring", percent_off=20)
    first = code.stripe_coupon_id
    assert first
    made = coupon(stripe_fake, first)
    assert made is not None
    assert (made["percent_off"], made["duration"]) == (20, "once")
    assert made["metadata"] == {"code": "SPRING", "gym": crm_a.gym.subdomain}
    posts = [c for c in stripe_fake.calls("/v1/coupons") if c[0] == "POST"]
    assert posts == [("POST", "/v1/coupons", account_a.account_id)]

    # Saved unchanged: the same coupon, nothing asked of Stripe but nothing made either.
    stripe_fake.requests.clear()
    code = code_update(crm_a, django_capture_on_commit_callbacks, code, code="SPRING")
    assert code.stripe_coupon_id == first
    assert not [c for c in stripe_fake.requests if c[0] in ("POST", "DELETE")]

    # A Coupon cannot change: a new discount is a new coupon, the old one deleted.
    code = code_update(crm_a, django_capture_on_commit_callbacks, code, percent_off=25)
    assert code.stripe_coupon_id not in ("", first)
    assert coupon(stripe_fake, code.stripe_coupon_id)["percent_off"] == 25
    assert coupon(stripe_fake, first) is None

    # Deactivated: its coupon is deleted, nothing can use it; activated again: made again.
    second = code.stripe_coupon_id
    code = code_update(crm_a, django_capture_on_commit_callbacks, code, active=False)
    assert code.stripe_coupon_id == ""
    assert coupon(stripe_fake, second) is None
    code = code_update(crm_a, django_capture_on_commit_callbacks, code, active=True)
    assert code.stripe_coupon_id == second
    assert coupon(stripe_fake, second)["percent_off"] == 25

    # Nobody types the coupon id: not a field of the service, read-only in the API.
    with tenant_context(crm_a.gym), pytest.raises(ValidationError):
        services.promotion_code_update(
            actor=crm_a.owner, promotion_code=code, stripe_coupon_id="typed"
        )
    owner = api_as("owner")
    response = owner.patch(
        BASE + f"promotion-codes/{code.pk}/", {"stripe_coupon_id": "typed"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["stripe_coupon_id"] == second
    assert fresh(crm_a, code).stripe_coupon_id == second
    # An amount off, through the API, in the gym's currency.
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            BASE + "promotion-codes/", {"code": "TENOFF", "amount_off": 1000}, format="json"
        )
    assert response.status_code == 201, response.content
    with tenant_context(crm_a.gym):
        ten_off = PromotionCode.objects.get(code="TENOFF")
    made = coupon(stripe_fake, ten_off.stripe_coupon_id)
    assert (made["amount_off"], made["currency"]) == (1000, ten_off.currency.lower())


def test_a_client_buys_a_pack_in_the_portal_with_a_code_and_pays_the_discounted_price(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    pack = on_sale(crm_a, django_capture_on_commit_callbacks, price=5000)
    code = code_create(crm_a, django_capture_on_commit_callbacks, code="SPRING", percent_off=20)
    cara = browser_as(crm_a, "cara")
    page = cara.get("/portal/memberships/").content.decode()
    assert 'name="promotion_code"' in page
    response = cara.post("/portal/memberships/buy/", {"pack": pack.pk, "promotion_code": "spring "})
    assert response.status_code == 303, response.content
    session_id = response["Location"].rsplit("/", 1)[-1]
    session = stripe_fake.sessions[session_id]
    assert session["stripe_account"] == account_a.account_id
    assert session["requested"]["discounts"] == [{"coupon": code.stripe_coupon_id}]
    assert "allow_promotion_codes" not in session["requested"]
    paid = stripe_fake.pay(session_id)  # what the hosted page's Pay button does
    assert (paid["amount_subtotal"], paid["amount_total"]) == (5000, 4000)
    payload = event_payload("checkout.session.completed", paid, account=account_a.account_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get()
        assert (payment.kind, payment.amount, payment.client) == (
            PaymentKind.CARD,
            4000,
            crm_a.cara,
        )
        credit = CreditGrant.objects.get()
        assert (credit.pack_id, credit.remaining) == (pack.pk, pack.credits)
    assert "40.00" in cara.get("/portal/memberships/").content.decode()


def test_an_unknown_inactive_or_not_yet_pushed_code_is_refused_naming_the_field(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    django_capture_on_commit_callbacks,
) -> None:
    # Made before the gym took cards: nothing pushed, no coupon yet.
    early = code_create(crm_a, django_capture_on_commit_callbacks, code="EARLY", percent_off=10)
    assert early.stripe_coupon_id == ""
    connect(stripe_fake, crm_a.gym)
    pack = on_sale(crm_a, django_capture_on_commit_callbacks)
    old = code_create(crm_a, django_capture_on_commit_callbacks, code="OLD", percent_off=10)
    code_update(crm_a, django_capture_on_commit_callbacks, old, active=False)
    cara = browser_as(crm_a, "cara")
    for typed, words in (
        ("NOPE", "No such promotion code."),
        ("old", "No such promotion code."),
        ("EARLY", "cannot be used online yet"),
    ):
        response = cara.post("/portal/memberships/buy/", {"pack": pack.pk, "promotion_code": typed})
        assert response.status_code == 400, typed
        page = response.content.decode()
        assert 'id="promotion_code-error"' in page, typed
        assert words in page, typed
    desk = api_as("desk")
    for typed, status in (("NOPE", 400), ("OLD", 400), ("EARLY", 400)):
        body = {
            "client": crm_a.ann.pk,
            "pack": pack.pk,
            "payment_kind": "checkout_link",
            "promotion_code": typed,
        }
        response = desk.post(BASE + "credits/", body, format="json")
        assert response.status_code == status, response.content
        assert list(response.json()["errors"]) == ["promotion_code"], typed
    assert not [c for c in stripe_fake.calls("/v1/checkout/sessions") if c[0] == "POST"]


def test_the_desk_sends_a_checkout_link_with_a_code(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    pack = on_sale(crm_a, django_capture_on_commit_callbacks, price=9000)
    code = code_create(crm_a, django_capture_on_commit_callbacks, code="TENOFF", amount_off=1000)
    desk = browser_as(crm_a, "desk")
    stripe_fake.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"/billing/clients/{crm_a.ann.pk}/sell-pack/",
            {
                "pack-pack": pack.pk,
                "pack-payment_kind": "checkout_link",
                "pack-promotion_code": "tenoff",
            },
            follow=True,
        )
    assert "Checkout link sent to the client." in response.content.decode()
    (call,) = [c for c in stripe_fake.calls("/v1/checkout/sessions") if c[0] == "POST"]
    assert call[2] == account_a.account_id
    session = list(stripe_fake.sessions.values())[-1]
    assert session["requested"]["discounts"] == [{"coupon": code.stripe_coupon_id}]
    # The platform's fee is on what the client pays.
    paid = stripe_fake.pay(session["id"])
    assert paid["amount_total"] == 8000
    payload = event_payload("checkout.session.completed", paid, account=account_a.account_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    with tenant_context(crm_a.gym):
        assert Payment.objects.get().amount == 8000
        assert CreditGrant.objects.get().client == crm_a.ann


def test_card_on_file_sales_with_a_code_charge_the_discount(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    pack = on_sale(crm_a, django_capture_on_commit_callbacks, price=5000)
    plan = on_sale(crm_a, django_capture_on_commit_callbacks, maker=make_plan, price=6000)
    code = code_create(crm_a, django_capture_on_commit_callbacks, code="SPRING", percent_off=20)
    save_card(stripe_fake, crm_a)
    desk = api_as("desk")
    body = {
        "client": crm_a.ann.pk,
        "pack": pack.pk,
        "payment_kind": "card_on_file",
        "promotion_code": "SPRING",
    }
    response = desk.post(BASE + "credits/", body, format="json")
    assert response.status_code == 201, response.content
    with tenant_context(crm_a.gym):
        payment = Payment.objects.get()
    assert payment.amount == 4000
    intent = stripe_gateway.payment_intent_retrieve(
        gym=crm_a.gym, payment_intent_id=payment.stripe_id
    )
    assert intent["amount"] == 4000
    # A plan is a subscription with the code's coupon, which exists on the gym's account (the
    # fake refuses an unknown coupon as Stripe does).
    body = {
        "client": crm_a.ann.pk,
        "plan": plan.pk,
        "payment_kind": "card_on_file",
        "promotion_code": "SPRING",
    }
    response = desk.post(BASE + "memberships/", body, format="json")
    assert response.status_code == 201, response.content
    with tenant_context(crm_a.gym):
        membership = Membership.objects.get()
    asked = stripe_fake.created_with[membership.stripe_subscription_id]
    assert asked["discounts"] == [{"coupon": code.stripe_coupon_id}]
    assert coupon(stripe_fake, code.stripe_coupon_id)["percent_off"] == 20


def test_gym_a_codes_never_reach_gym_b(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    account_b = connect(stripe_fake, crm_b.gym)
    pack_b = on_sale(crm_b, django_capture_on_commit_callbacks)
    stripe_fake.requests.clear()
    code_a = code_create(crm_a, django_capture_on_commit_callbacks, code="AONLY", percent_off=50)
    code_b = code_create(crm_b, django_capture_on_commit_callbacks, code="BONLY", percent_off=50)
    # Each gym's coupon made once, on its own account.
    posts = [c[2] for c in stripe_fake.calls("/v1/coupons") if c[0] == "POST"]
    assert sorted(posts) == sorted([account_a.account_id, account_b.account_id])
    assert code_a.stripe_coupon_id.startswith(crm_a.gym.subdomain)
    assert code_b.stripe_coupon_id.startswith(crm_b.gym.subdomain)
    # Gym B's client cannot use gym A's code.
    cara_b = browser_as(crm_b, "cara")
    response = cara_b.post(
        "/portal/memberships/buy/", {"pack": pack_b.pk, "promotion_code": "AONLY"}
    )
    assert response.status_code == 400
    assert "No such promotion code." in response.content.decode()
    with tenant_context(crm_b.gym):
        assert not PromotionCode.objects.filter(code="AONLY").exists()
