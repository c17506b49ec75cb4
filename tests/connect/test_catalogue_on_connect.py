"""Connecting Stripe pushes the gym's catalogue: plans, packs and promotion codes made before
are made on the account just connected; connecting another account (or the same one in the
other mode) clears the ids of the previous one first, so they are made again there; archived
items are left alone. Through the OAuth round trip against the fake Connect server and
localstripe, nothing of ours mocked."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import MembershipPlan, Pack, PromotionCode
from apps.connect.models import ConnectedAccount
from tests.billing.factories import make_pack, make_plan
from tests.connect.test_pages import as_user, oauth_round_trip
from tests.crm.conftest import CrmGym
from tests.fakes.stripe_connect import FakeStripeConnect

pytestmark = pytest.mark.django_db


@pytest.fixture
def public() -> Client:
    return Client(HTTP_HOST="localhost")


def connect_through_stripe(crm: CrmGym, public: Client, capture: Any) -> ConnectedAccount:
    """The owner connects a Stripe account (a new one at the fake each time), the pushes run."""
    owner = as_user(crm, crm.owner)
    with capture(execute=True):
        response = oauth_round_trip(owner, public)
    assert "result=connected" in response["Location"]  # type: ignore[index]
    return ConnectedAccount.objects.get(gym=crm.gym, disconnected_at__isnull=True)


def ids(crm: CrmGym) -> dict[str, tuple[str, ...]]:
    with tenant_context(crm.gym):
        return {
            **{
                f"plan {p.name}": (p.stripe_product_id, p.stripe_price_id)
                for p in MembershipPlan.objects.all()
            },
            **{
                f"pack {p.name}": (p.stripe_product_id, p.stripe_price_id)
                for p in Pack.objects.all()
            },
            **{f"code {c.code}": (c.stripe_coupon_id,) for c in PromotionCode.objects.all()},
        }


def test_connecting_pushes_what_was_made_before_and_a_new_account_gets_it_all_again(
    crm_a: CrmGym,
    crm_b: CrmGym,
    stripe_fake: FakeStripeConnect,
    public: Client,
    django_capture_on_commit_callbacks,
) -> None:
    with tenant_context(crm_a.gym):
        make_plan(crm_a.owner, name="Unlimited")
        make_pack(crm_a.owner, name="Ten")
        gone = make_pack(crm_a.owner, name="Gone")
        services.pack_archive(actor=crm_a.owner, pack=gone)
        services.promotion_code_create(actor=crm_a.owner, code="SPRING", percent_off=20)
    assert set(ids(crm_a).values()) == {("", ""), ("",)}  # no Stripe yet: nothing pushed

    first = connect_through_stripe(crm_a, public, django_capture_on_commit_callbacks)
    before = ids(crm_a)
    for name in ("plan Unlimited", "pack Ten", "code SPRING"):
        assert all(before[name]), name
    assert before["pack Gone"] == ("", "")  # archived: not sold, not pushed
    made_on = {c[2] for c in stripe_fake.requests if c[0] == "POST" and c[1].startswith("/v1/")}
    assert made_on == {first.account_id}
    price = stripe_fake.prices[before["plan Unlimited"][1]]
    assert (price["unit_amount"], price["recurring"]) == (6000, {"interval": "month"})
    assert stripe_fake.coupon(before["code SPRING"][0])["percent_off"] == 20

    # The owner connects another account: what the first one held is made again on it.
    stripe_fake.requests.clear()
    second = connect_through_stripe(crm_a, public, django_capture_on_commit_callbacks)
    assert second.account_id != first.account_id
    after = ids(crm_a)
    for name in ("plan Unlimited", "pack Ten"):
        assert all(after[name]), name
        assert after[name][0] != before[name][0], name
        assert after[name][1] != before[name][1], name
    assert after["code SPRING"][0]
    assert after["pack Gone"] == ("", "")
    made_on = {c[2] for c in stripe_fake.requests if c[0] == "POST" and c[1].startswith("/v1/")}
    assert made_on == {second.account_id}
    # Gym B, not connected, got nothing.
    assert set(ids(crm_b).values()) <= {("", ""), ("",)}


def test_the_same_account_again_keeps_its_ids_and_another_mode_replaces_them(
    crm_a: CrmGym,
    stripe_fake: FakeStripeConnect,
    public: Client,
    django_capture_on_commit_callbacks,
) -> None:
    with tenant_context(crm_a.gym):
        make_pack(crm_a.owner, name="Ten")
    account = connect_through_stripe(crm_a, public, django_capture_on_commit_callbacks)
    first = ids(crm_a)["pack Ten"]
    assert all(first)

    def reconnect(livemode: bool) -> None:
        # Stripe's authorize page gives this same account again (in `livemode`).
        stripe_fake.accounts[account.account_id]["livemode"] = livemode
        original = stripe_fake.account_create
        stripe_fake.account_create = lambda **_: stripe_fake.accounts[account.account_id]  # type: ignore[method-assign]
        try:
            connect_through_stripe(crm_a, public, django_capture_on_commit_callbacks)
        finally:
            stripe_fake.account_create = original  # type: ignore[method-assign]

    reconnect(livemode=False)
    assert ids(crm_a)["pack Ten"] == first
    reconnect(livemode=True)
    live = ids(crm_a)["pack Ten"]
    assert all(live)
    assert live != first
