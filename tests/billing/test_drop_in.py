"""A drop-in is one class credit at the drop-in price: the billing settings keep one pack in step
with the price (pushed to Stripe as any pack; edited before a sale, archived and replaced
after; archived when the price is cleared), and it sells wherever packs sell: the profile, the
API, the portal's Checkout. A client refused a booking for having nothing valid is offered it.
Against localstripe and our fake of what it lacks, nothing of ours mocked."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client as DjangoClient
from django_tenants.utils import tenant_context

from apps.billing import selectors, services, stripe_gateway
from apps.billing.models import BillingSettings, CreditGrant, CreditKind, Pack
from tests.billing.conftest import deliver, event_payload
from tests.billing.factories import make_pack, require_memberships
from tests.billing.test_pages import browser_as
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, api_as, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401
from tests.scheduling.test_classes import make_class

BASE = "/api/v1/billing/"


@pytest.fixture
def public(db):  # type: ignore[no-untyped-def]
    return DjangoClient(HTTP_HOST="localhost")


def drop_ins(crm: CrmGym) -> list[Pack]:
    with tenant_context(crm.gym):
        return list(Pack.objects.filter(is_drop_in=True).order_by("pk"))


def stripe_price(crm: CrmGym, price_id: str) -> dict[str, Any]:
    return stripe_gateway.gym_client(crm.gym).v1.prices.retrieve(price_id).to_dict()


def set_drop_in(crm: CrmGym, capture: Any, **fields: Any) -> None:
    """Change the drop-in as a manager does (a billing setting), Stripe pushes run."""
    with tenant_context(crm.gym), capture(execute=True):
        services.billing_settings_update(actor=crm.manager, **fields)


def test_the_drop_in_price_keeps_one_pack_in_step_with_stripe(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    django_capture_on_commit_callbacks,
) -> None:
    connect(stripe_fake, crm_a.gym)
    set_drop_in(crm_a, django_capture_on_commit_callbacks, drop_in_price=1500)
    (pack,) = drop_ins(crm_a)
    assert (pack.kind, pack.credits, pack.price, pack.expiry_days, pack.name) == (
        CreditKind.CLASS,
        1,
        1500,
        30,
        "Drop-in",
    )
    assert pack.stripe_product_id
    assert pack.stripe_price_id
    first_price = pack.stripe_price_id
    assert stripe_price(crm_a, first_price)["unit_amount"] == 1500
    # Saved again unchanged: nothing new.
    set_drop_in(crm_a, django_capture_on_commit_callbacks, drop_in_price=1500)
    assert [p.pk for p in drop_ins(crm_a)] == [pack.pk]

    # Before any sale the pack itself changes; Stripe's Price is replaced (Prices are immutable).
    set_drop_in(
        crm_a, django_capture_on_commit_callbacks, drop_in_price=1800, drop_in_valid_days=14
    )
    (edited,) = drop_ins(crm_a)
    assert (edited.pk, edited.price, edited.expiry_days) == (pack.pk, 1800, 14)
    assert edited.stripe_price_id != first_price
    assert stripe_price(crm_a, first_price)["active"] is False
    assert stripe_price(crm_a, edited.stripe_price_id)["unit_amount"] == 1800

    # Once sold it is archived and replaced: the credit sold keeps what it was sold as.
    with tenant_context(crm_a.gym):
        credit = services.pack_sell(
            actor=crm_a.desk, client=crm_a.ann, pack=edited, payment_kind="offline_cash"
        )
    set_drop_in(crm_a, django_capture_on_commit_callbacks, drop_in_price=2000)
    old, new = drop_ins(crm_a)
    assert old.pk == edited.pk
    assert (old.price, old.archived_at is not None) == (1800, True)
    assert (new.price, new.expiry_days, new.archived_at) == (2000, 14, None)
    assert stripe_price(crm_a, old.stripe_price_id)["active"] is False
    assert stripe_price(crm_a, new.stripe_price_id)["unit_amount"] == 2000
    with tenant_context(crm_a.gym):
        credit.refresh_from_db()
        assert (credit.pack_id, credit.remaining) == (old.pk, 1)
        assert selectors.drop_in_pack() == new

    # Clearing the price archives it, at Stripe too.
    set_drop_in(crm_a, django_capture_on_commit_callbacks, drop_in_price=None)
    assert all(p.archived_at is not None for p in drop_ins(crm_a))
    assert stripe_price(crm_a, new.stripe_price_id)["active"] is False
    with tenant_context(crm_a.gym):
        assert selectors.drop_in_pack() is None


def test_the_drop_in_changes_only_with_the_billing_settings(
    crm_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
) -> None:
    with tenant_context(crm_a.gym):
        services.billing_settings_update(actor=crm_a.owner, drop_in_price=1500)
        pack = selectors.drop_in_pack()
    owner = api_as("owner")
    response = owner.post(BASE + f"packs/{pack.pk}/archive/")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["pack"]
    response = owner.patch(BASE + f"packs/{pack.pk}/", {"price": 1}, format="json")
    assert response.status_code == 400, response.content
    with tenant_context(crm_a.gym):
        pack.refresh_from_db()
        assert (pack.price, pack.archived_at) == (1500, None)


def test_a_client_buys_a_drop_in_in_the_portal_and_books_one_class_with_it(
    sched_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    public,
    django_capture_on_commit_callbacks,
) -> None:
    account = connect(stripe_fake, sched_a.gym)
    set_drop_in(sched_a, django_capture_on_commit_callbacks, drop_in_price=1500)
    with tenant_context(sched_a.gym):
        require_memberships()
        first, second = make_class(sched_a), make_class(sched_a, in_hours=50)
        pack = selectors.drop_in_pack()
    cara = browser_as(sched_a, "cara")
    page = cara.get("/portal/memberships/").content.decode()
    assert 'data-testid="buy-drop-in"' in page
    assert f'data-testid="buy-pack-{pack.pk}"' not in page  # its own line, not twice
    assert "<strong>Drop-in</strong>" in page

    response = cara.post("/portal/memberships/buy/", {"pack": pack.pk})
    assert response.status_code == 303
    session_id = response["Location"].rsplit("/", 1)[-1]
    assert stripe_fake.sessions[session_id]["stripe_account"] == account.account_id
    paid = stripe_fake.pay(session_id)
    payload = event_payload("checkout.session.completed", paid, account=account.account_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(public, payload).status_code == 200
    with tenant_context(sched_a.gym):
        credit = CreditGrant.objects.get(client=sched_a.cara)
        assert (credit.pack_id, credit.granted, credit.remaining) == (pack.pk, 1, 1)
        assert credit.expires_at is not None
    assert "Drop-in" in cara.get("/portal/memberships/").content.decode()

    response = cara.post(f"/portal/schedule/classes/{first.pk}/book/")
    assert response.status_code == 302, response.content
    response = cara.post(f"/portal/schedule/classes/{second.pk}/book/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "No valid membership or credits" in page
    assert 'data-testid="schedule-buy-offer"' in page
    assert 'href="/portal/memberships/"' in page
    assert "15.00" in page
    with tenant_context(sched_a.gym):
        credit.refresh_from_db()
        assert credit.remaining == 0


def test_a_refusal_without_a_drop_in_still_points_to_memberships(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a)
    response = browser_as(sched_a, "cara").post(f"/portal/schedule/classes/{occurrence.pk}/book/")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="schedule-buy-offer"' in page
    assert "Buy a membership or pack" in page


def test_the_desk_sells_a_drop_in_for_cash_from_the_profile(crm_a: CrmGym) -> None:  # noqa: F811
    manager = browser_as(crm_a, "manager")
    response = manager.post(
        "/billing/settings/",
        {
            "settings-drop_in_price": "15.00",
            "settings-drop_in_valid_days": "7",
            "settings-dunning_block_days": "7",
            "settings-dunning_suspend_days": "21",
        },
    )
    assert response.status_code == 302, response.content.decode()
    (pack,) = drop_ins(crm_a)
    assert (pack.price, pack.expiry_days) == (1500, 7)
    with tenant_context(crm_a.gym):
        make_pack(crm_a.owner, name="Five classes", credits=5)
    # The catalogue shows it once, on its own line.
    page = browser_as(crm_a, "owner").get("/billing/").content.decode()
    assert page.count("<strong>Drop-in</strong>") == 1
    assert 'data-testid="drop-in"' in page
    assert "Five classes" in page

    desk = browser_as(crm_a, "desk")
    page = desk.get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert f'<option value="{pack.pk}">Drop-in</option>' in page
    response = desk.post(
        f"/billing/clients/{crm_a.ann.pk}/sell-pack/",
        {"pack-pack": pack.pk, "pack-payment_kind": "offline_cash"},
        follow=True,
    )
    page = response.content.decode()
    assert "Pack sold." in page
    assert "Drop-in: 1 of 1 left" in page
    with tenant_context(crm_a.gym):
        credit = CreditGrant.objects.get(client=crm_a.ann)
        assert (credit.pack_id, credit.remaining) == (pack.pk, 1)
        assert 6 <= (credit.expires_at - credit.created_at).days <= 7


def test_the_api_lists_the_drop_in_and_gym_b_sees_none_of_it(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
) -> None:
    with tenant_context(crm_a.gym):
        services.billing_settings_update(actor=crm_a.owner, drop_in_price=1500)
        pack = selectors.drop_in_pack()
    listed = api_as("desk").get(BASE + "packs/").json()["results"]
    assert [(p["id"], p["name"], p["credits"], p["price"]) for p in listed] == [
        (pack.pk, "Drop-in", 1, 1500)
    ]
    body = {"client": crm_a.ann.pk, "pack": pack.pk, "payment_kind": "offline_cash"}
    response = api_as("desk").post(BASE + "credits/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["remaining"] == 1

    # Gym B: not in its API, its catalogue or its portal, and not sellable there.
    assert api_as("desk", crm_b).get(BASE + "packs/").json()["results"] == []
    body = {"client": crm_b.ann.pk, "pack": pack.pk, "payment_kind": "offline_cash"}
    response = api_as("desk", crm_b).post(BASE + "credits/", body, format="json")
    assert response.status_code == 400
    assert "pack" in response.json()["errors"]
    assert (
        'data-testid="drop-in"' not in browser_as(crm_b, "owner").get("/billing/").content.decode()
    )
    cara_b = browser_as(crm_b, "cara")
    assert "Drop-in" not in cara_b.get("/portal/memberships/").content.decode()
    assert cara_b.post("/portal/memberships/buy/", {"pack": pack.pk}).status_code == 404
    with tenant_context(crm_b.gym):
        assert not Pack.objects.exists()
        assert BillingSettings.objects.first() is None


def test_a_drop_in_price_set_before_becomes_a_pack_that_goes_online_once_connected(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    django_capture_on_commit_callbacks,
) -> None:
    migration = importlib.import_module("apps.billing.migrations.0005_drop_in_pack")
    with tenant_context(crm_a.gym):
        BillingSettings.objects.create(drop_in_price=1200, drop_in_valid_days=10)
        for _ in range(2):  # run twice: still one
            migration.drop_in_packs_for_existing_prices(
                django_apps, SimpleNamespace(connection=connection)
            )
    (pack,) = drop_ins(crm_a)
    assert (pack.price, pack.expiry_days, pack.credits, pack.currency) == (
        1200,
        10,
        1,
        crm_a.gym.currency,
    )
    assert pack.stripe_price_id == ""
    # The gym connects Stripe; saving the settings as they are puts the drop-in online.
    connect(stripe_fake, crm_a.gym)
    set_drop_in(crm_a, django_capture_on_commit_callbacks, drop_in_price=1200)
    (pack,) = drop_ins(crm_a)
    assert stripe_price(crm_a, pack.stripe_price_id)["unit_amount"] == 1200
