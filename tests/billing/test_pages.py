"""Billing pages: the catalogue (the owner edits, sellers read), the client profile's
"Membership & payments" (sell, record cash, refund; trainers see the status only), failed
payments, the portal's memberships page; gym isolation; bounded queries."""

from __future__ import annotations

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import services, stripe_gateway
from apps.billing.models import CreditGrant, Membership, MembershipPlan, Payment
from tests.billing.factories import make_pack, make_plan
from tests.conftest import GymClient, activate_totp
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401


def browser_as(crm: CrmGym, role: str) -> GymClient:
    """Logged in as `role`; owners and managers with the authenticator app they must have."""
    if role in ("owner", "manager"):
        with tenant_context(crm.gym):
            if not Authenticator.objects.filter(user=crm.user(role)).exists():
                activate_totp(crm.user(role))
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


def test_the_owner_adds_a_plan_in_major_units(crm_a: CrmGym) -> None:  # noqa: F811
    owner = browser_as(crm_a, "owner")
    assert owner.get("/billing/").status_code == 200
    response = owner.post(
        "/billing/plans/",
        {
            "plan-name": "Monthly unlimited",
            "plan-interval": "month",
            "plan-price": "59.90",
            "plan-joining_fee": "",
            "plan-minimum_term": "3",
            "plan-grant": "unlimited",
            "plan-trial_days": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(crm_a.gym):
        plan = MembershipPlan.objects.get()
        assert (plan.price, plan.currency, plan.minimum_term) == (5990, "EUR", 3)
    page = owner.get("/billing/").content.decode()
    assert "€59.90" in page


def test_sellers_read_the_catalogue_only_the_owner_changes_it(crm_a: CrmGym) -> None:  # noqa: F811
    desk = browser_as(crm_a, "desk")
    assert desk.get("/billing/").status_code == 200
    assert desk.post("/billing/packs/", {"pack-name": "x"}).status_code == 403
    assert browser_as(crm_a, "tina").get("/billing/").status_code == 403
    assert browser_as(crm_a, "cara").get("/billing/").status_code == 403


def test_desk_sells_from_the_profile_and_a_manager_refunds(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner, price=4500)
        pack = make_pack(crm_a.owner)
    desk = browser_as(crm_a, "desk")
    profile = f"/clients/{crm_a.ann.pk}/"
    page = desk.get(profile).content.decode()
    assert 'data-testid="client-billing"' in page
    assert 'data-testid="sell-plan-form"' in page
    assert 'data-testid="refund-form"' not in page
    response = desk.post(
        f"/billing/clients/{crm_a.ann.pk}/sell-plan/",
        {"plan-plan": plan.pk, "plan-payment_kind": "offline_cash"},
    )
    assert response.status_code == 302
    desk.post(
        f"/billing/clients/{crm_a.ann.pk}/sell-pack/",
        {"pack-pack": pack.pk, "pack-payment_kind": "offline_transfer"},
    )
    desk.post(
        f"/billing/clients/{crm_a.ann.pk}/record-payment/",
        {"pay-kind": "offline_cash", "pay-amount": "12", "pay-description": "Drop-in"},
    )
    with tenant_context(crm_a.gym):
        assert Membership.objects.filter(client=crm_a.ann).count() == 1
        assert CreditGrant.objects.filter(client=crm_a.ann).count() == 1
        amounts = sorted(Payment.objects.filter(client=crm_a.ann).values_list("amount", flat=True))
        assert amounts == [1200, 4500, 9000]
        cash = Payment.objects.get(client=crm_a.ann, amount=4500)
    assert (
        desk.post(f"/billing/payments/{cash.pk}/refund/", {"refund-reason": "x"}).status_code == 403
    )
    manager = browser_as(crm_a, "manager")
    page = manager.get(profile).content.decode()
    assert 'data-testid="refund-form"' in page
    manager.post(
        f"/billing/payments/{cash.pk}/refund/",
        {"refund-amount": "10.00", "refund-reason": "Injury"},
    )
    with tenant_context(crm_a.gym):
        cash.refresh_from_db()
        assert cash.refunded_amount == 1000
    page = manager.get(profile).content.decode()
    assert "Injury" in page


def test_trainers_see_their_clients_status_only(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        services.membership_sell(
            actor=crm_a.desk,
            client=crm_a.ann,
            plan=make_plan(crm_a.owner),
            payment_kind="offline_cash",
        )
    page = browser_as(crm_a, "tina").get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert 'data-testid="billing-status"' in page
    assert 'data-testid="ledger"' not in page
    assert 'data-testid="sell"' not in page


def test_failed_payments_list(crm_a: CrmGym, django_assert_max_num_queries) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            membership = services.membership_sell(
                actor=crm_a.desk, client=client, plan=plan, payment_kind="offline_cash"
            )
            services.membership_mark_past_due(membership=membership, failed_at=timezone.now())
    desk = browser_as(crm_a, "desk")
    with django_assert_max_num_queries(20):
        response = desk.get("/billing/failed-payments/")
    page = response.content.decode()
    assert page.count("#billing") == 3
    assert "Bob Baker" in page


def test_the_portal_lists_what_the_client_has_and_can_buy(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, name="Five classes", credits=5)
        make_plan(crm_a.owner, name="Gold")
        services.pack_sell(
            actor=crm_a.desk, client=crm_a.cara, pack=pack, payment_kind="offline_cash"
        )
    cara = browser_as(crm_a, "cara")
    page = cara.get("/portal/memberships/").content.decode()
    assert "5 of 5 left" in page
    assert "Gold" in page
    assert "Memberships" in cara.get("/portal/").content.decode()
    assert browser_as(crm_a, "desk").get("/portal/memberships/").status_code == 403


def test_gym_b_cannot_sell_or_refund_in_gym_a(crm_a: CrmGym, crm_b: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
        )
        payment = Payment.objects.get(client=crm_a.ann)
    owner_b = browser_as(crm_b, "owner")
    assert (
        owner_b.post(
            f"/billing/payments/{payment.pk}/refund/", {"refund-reason": "theft"}
        ).status_code
        == 404
    )
    assert owner_b.post(f"/billing/memberships/{membership.pk}/resume/").status_code == 404
    with tenant_context(crm_a.gym):
        payment.refresh_from_db()
        assert payment.refunded_amount == 0


def test_check_in_shows_membership_status_and_credits(
    crm_a: CrmGym,  # noqa: F811
    django_assert_max_num_queries,
) -> None:
    from datetime import timedelta

    from apps.scheduling.classes import services as class_services
    from apps.scheduling.models import ClassOccurrence, ClassType

    with tenant_context(crm_a.gym):
        class_type = ClassType.objects.create(name="Yoga", booking_closes_minutes=0)
        starts_at = timezone.now() + timedelta(minutes=30)
        occurrence = ClassOccurrence.objects.create(
            class_type=class_type,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            capacity=10,
        )
        membership = services.membership_sell(
            actor=crm_a.desk,
            client=crm_a.ann,
            plan=make_plan(crm_a.owner),
            payment_kind="offline_cash",
        )
        services.membership_mark_past_due(membership=membership)
        services.pack_sell(
            actor=crm_a.desk,
            client=crm_a.bob,
            pack=make_pack(crm_a.owner, credits=3),
            payment_kind="offline_cash",
        )
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            class_services.class_book(actor=crm_a.desk, occurrence=occurrence, client=client)
    desk = browser_as(crm_a, "desk")
    with django_assert_max_num_queries(25):
        page = desk.get("/schedule/checkin/").content.decode()
    assert page.count('data-testid="billing-badge"') == 3
    assert "Past due" in page
    assert "3 credits left" in page
    assert "Nothing valid to book with." in page


def test_portal_and_calendar_refuse_without_a_membership(sched_a: CrmGym) -> None:  # noqa: F811
    from datetime import timedelta

    from apps.scheduling.models import ClassBooking
    from tests.billing.factories import require_memberships
    from tests.scheduling.test_classes import make_class

    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a)
    cara = browser_as(sched_a, "cara")
    response = cara.post(f"/portal/schedule/classes/{occurrence.pk}/book/")
    assert response.status_code == 400
    assert "No valid membership or credits" in response.content.decode()
    # The staff calendar's booking form says the same.
    day = (timezone.now() + timedelta(days=7)).date()
    while day.weekday() != 1:  # Tina works Tuesdays
        day += timedelta(days=1)
    response = browser_as(sched_a, "desk").post(
        "/schedule/calendar/appointments/new/",
        {
            "trainer": sched_a.tina.pk,
            "client": sched_a.ann.pk,
            "day": day.isoformat(),
            "start": "10:00",
            "duration_minutes": 45,
        },
    )
    assert response.status_code == 400
    assert "No valid membership or credits" in response.content.decode()
    with tenant_context(sched_a.gym):
        assert not ClassBooking.objects.filter(occurrence=occurrence).exists()


def test_the_portal_buys_through_stripe_checkout(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, name="Five classes", credits=5)
        offline_only = make_plan(crm_a.owner, name="Desk only")
    cara = browser_as(crm_a, "cara")
    # Not connected to Stripe: every button is disabled, and a forged POST goes nowhere.
    page = cara.get("/portal/memberships/").content.decode()
    assert f'data-testid="buy-pack-{pack.pk}"' not in page
    response = cara.post("/portal/memberships/buy/", {"pack": pack.pk})
    assert response.status_code == 302
    assert stripe_fake.calls("/v1/checkout/sessions") == []

    account = connect(stripe_fake, crm_a.gym)
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=crm_a.gym, name="Five classes", amount=pack.price, currency=pack.currency
    )
    with tenant_context(crm_a.gym):
        services.pack_update(actor=crm_a.owner, pack=pack, stripe_price_id=price_id)
    page = cara.get("/portal/memberships/").content.decode()
    assert f'data-testid="buy-pack-{pack.pk}"' in page
    assert f'data-testid="buy-plan-{offline_only.pk}"' not in page  # no Stripe price yet
    response = cara.post("/portal/memberships/buy/", {"pack": pack.pk})
    assert response.status_code == 303
    # The fake serves the whole test session: this gym's account's sessions are this test's.
    (session,) = [
        found
        for found in stripe_fake.sessions.values()
        if found["stripe_account"] == account.account_id
    ]
    assert response["Location"] == session["url"]
    assert session["stripe_account"] == account.account_id
    assert session["mode"] == "payment"
    assert session["line_items_requested"] == [{"price": price_id, "quantity": "1"}]
    assert session["metadata"]["pack"] == str(pack.pk)
    assert session["client_reference_id"] == str(crm_a.cara.pk)


def test_the_admin_shows_the_ledger_read_only(
    crm_a: CrmGym,  # noqa: F811
    django_assert_max_num_queries,
) -> None:
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner)
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            services.pack_sell(
                actor=crm_a.desk, client=client, pack=pack, payment_kind="offline_cash"
            )
    manager = browser_as(crm_a, "manager")
    with django_assert_max_num_queries(25):
        response = manager.get("/admin/billing/payment/")
    assert response.status_code == 200
    assert "Bob Baker" in response.content.decode()
    assert manager.get("/admin/billing/payment/add/").status_code == 403
    assert browser_as(crm_a, "desk").get("/admin/billing/payment/").status_code in (302, 403)


def test_a_manager_pauses_resumes_and_cancels_from_the_profile(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner, price=4500)
        membership = services.membership_sell(
            actor=crm_a.owner, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
        )
    manager = browser_as(crm_a, "manager")
    base = f"/billing/memberships/{membership.pk}"
    today = timezone.localdate()
    response = manager.post(
        f"{base}/pause/",
        {
            "pause-paused_from": today.isoformat(),
            "pause-paused_until": (today + timedelta(days=14)).isoformat(),
        },
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        membership.refresh_from_db()
        assert membership.paused_until == today + timedelta(days=14)
    manager.post(f"{base}/resume/")
    with tenant_context(crm_a.gym):
        membership.refresh_from_db()
        assert membership.paused_until is None
    manager.post(f"{base}/cancel/", {"cancel-at_period_end": "on"})
    with tenant_context(crm_a.gym):
        membership.refresh_from_db()
        assert membership.cancel_at_period_end is True
    # A form that does not validate says so and changes nothing.
    manager.post(f"{base}/pause/", {"pause-paused_from": "not a date"})
    assert manager.post(f"{base}/explode/").status_code == 404
    assert browser_as(crm_a, "desk").post(f"{base}/resume/").status_code == 403
