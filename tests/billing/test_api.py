"""The billing API: the catalogue, selling with an Idempotency-Key, membership actions, the
ledger and refunds; roles; gym A's data out of gym B's reach; bounded queries on lists."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import Membership, Payment
from tests.billing.factories import make_pack, make_plan, require_memberships
from tests.crm.conftest import CrmGym, api_as, crm_b  # noqa: F401
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401
from tests.scheduling.test_classes import make_class

BASE = "/api/v1/billing/"


def test_owner_manages_the_catalogue_others_read_it(crm_a: CrmGym, api_as) -> None:  # noqa: F811
    owner = api_as("owner")
    response = owner.post(
        BASE + "plans/",
        {"name": "Gold", "price": 7900, "interval": "month", "grant": "unlimited"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "EUR"
    plan_id = response.json()["id"]
    assert api_as("manager").post(BASE + "plans/", {"name": "X", "price": 1}).status_code == 403
    assert api_as("cara").get(BASE + "plans/").json()["results"][0]["name"] == "Gold"
    assert owner.post(f"{BASE}plans/{plan_id}/archive/").status_code == 200
    assert api_as("cara").get(BASE + "plans/").json()["results"] == []
    response = owner.post(
        BASE + "packs/", {"name": "5 classes", "credits": 5, "price": 5000}, format="json"
    )
    assert response.status_code == 201
    assert api_as("cara").get(BASE + "promotion-codes/").status_code == 403


def test_selling_is_idempotent(crm_a: CrmGym, api_as) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
    desk = api_as("desk")
    body = {"client": crm_a.ann.pk, "plan": plan.pk, "payment_kind": "offline_cash"}
    first = desk.post(BASE + "memberships/", body, format="json", HTTP_IDEMPOTENCY_KEY="sale-1")
    again = desk.post(BASE + "memberships/", body, format="json", HTTP_IDEMPOTENCY_KEY="sale-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert first.json() == again.json()
    with tenant_context(crm_a.gym):
        assert Membership.objects.filter(client=crm_a.ann).count() == 1
        assert Payment.objects.filter(client=crm_a.ann).count() == 1
    # Trainers and clients cannot sell.
    assert api_as("tina").post(BASE + "memberships/", body, format="json").status_code in (
        400,
        403,
    )
    assert api_as("cara").post(BASE + "memberships/", body, format="json").status_code in (
        400,
        403,
    )


def test_membership_actions(crm_a: CrmGym, api_as) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        other = make_plan(crm_a.owner, name="Off-peak", price=3000)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
        )
    manager = api_as("manager")
    url = f"{BASE}memberships/{membership.pk}/"
    assert api_as("desk").post(url + "resume/").status_code == 403
    response = manager.post(url + "change/", {"plan": other.pk}, format="json")
    assert response.status_code == 200, response.content
    response = manager.post(
        url + "pause/",
        {"paused_from": "2030-01-01", "paused_until": "2030-01-14"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert manager.post(url + "resume/").status_code == 200
    response = manager.post(url + "cancel/", {"at_period_end": False}, format="json")
    assert response.json()["status"] == "cancelled"


def test_refunds_and_the_ledger_by_role(crm_a: CrmGym, api_as) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        services.pack_sell(
            actor=crm_a.desk,
            client=crm_a.cara,
            pack=make_pack(crm_a.owner),
            payment_kind="offline_cash",
        )
        payment = Payment.objects.get(client=crm_a.cara)
    url = f"{BASE}payments/{payment.pk}/refund/"
    assert api_as("desk").post(url, {"reason": "x"}, format="json").status_code == 403
    response = api_as("manager").post(
        url, {"amount": 1000, "reason": "Goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert response.status_code == 201, response.content
    again = api_as("manager").post(
        url, {"amount": 1000, "reason": "Goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert again.json()["id"] == response.json()["id"]
    response = api_as("manager").post(url, {"amount": 99999, "reason": "Too much"}, format="json")
    assert response.status_code == 400
    # The client sees their own ledger, a trainer none of it.
    assert len(api_as("cara").get(BASE + "payments/").json()["results"]) == 2
    assert api_as("tom").get(BASE + "payments/").json()["results"] == []
    assert len(api_as("tom").get(BASE + "credits/").json()["results"]) == 1
    assert api_as("tina").get(BASE + "credits/").json()["results"] == []
    # Cash at the desk.
    response = api_as("desk").post(
        BASE + "payments/",
        {"client": crm_a.bob.pk, "kind": "offline_cash", "amount": 1200, "description": "Drop-in"},
        format="json",
    )
    assert response.status_code == 201


def test_booking_without_a_membership_is_a_400_naming_membership(
    sched_a: CrmGym,  # noqa: F811
    api_as,  # noqa: F811
) -> None:
    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a)
    response = api_as("cara").post(f"/api/v1/occurrences/{occurrence.pk}/book/", {})
    assert response.status_code == 400
    assert "membership" in response.content.decode()


def test_gym_b_cannot_see_or_touch_gym_a(crm_a: CrmGym, crm_b: CrmGym, api_as) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
        )
        payment = Payment.objects.get(client=crm_a.ann)
    owner_b = api_as("owner", crm_b)
    assert owner_b.get(BASE + "memberships/").json()["results"] == []
    assert owner_b.get(BASE + "payments/").json()["results"] == []
    assert owner_b.get(BASE + "plans/").json()["results"] == []
    assert owner_b.post(f"{BASE}memberships/{membership.pk}/resume/").status_code == 404
    response = owner_b.post(
        f"{BASE}payments/{payment.pk}/refund/", {"reason": "theft"}, format="json"
    )
    assert response.status_code == 404
    response = owner_b.post(
        BASE + "memberships/",
        {"client": crm_a.ann.pk, "plan": plan.pk, "payment_kind": "offline_cash"},
        format="json",
    )
    assert response.status_code == 400


def test_lists_are_bounded(crm_a: CrmGym, api_as, django_assert_max_num_queries) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        pack = make_pack(crm_a.owner)
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            services.membership_sell(
                actor=crm_a.desk, client=client, plan=plan, payment_kind="offline_cash"
            )
            services.pack_sell(
                actor=crm_a.desk, client=client, pack=pack, payment_kind="offline_cash"
            )
    owner = api_as("owner")
    for path in ("memberships/", "credits/", "payments/", "plans/", "packs/"):
        with django_assert_max_num_queries(6):
            response = owner.get(BASE + path)
        assert response.status_code == 200


def test_managers_override_through_the_api(sched_a: CrmGym, api_as) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a, capacity=5)
    url = f"/api/v1/occurrences/{occurrence.pk}/book/"
    body = {"client": sched_a.bob.pk, "override_membership": True}
    assert api_as("desk").post(url, body, format="json").status_code == 403
    response = api_as("manager").post(url, body, format="json")
    assert response.status_code == 201, response.content
