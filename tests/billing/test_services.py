"""Billing services: the catalogue, selling with offline payments, plan changes with proration,
pause and resume, cancelling and the minimum term, refunds, dunning, Stripe's syncs (idempotent),
roles, audit events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing import services, stripe_gateway
from apps.billing.models import (
    Grant,
    Interval,
    Membership,
    MembershipStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from apps.billing.selectors import billing_status_for, failed_payments
from apps.tenants.selectors import gym_today
from tests.billing.conftest import TEST_CARD
from tests.billing.factories import make_pack, make_plan
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# --- Catalogue ------------------------------------------------------------------------------


def test_only_the_owner_manages_the_catalogue(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        assert plan.currency == "EUR"
        for actor in (crm_a.manager, crm_a.desk, crm_a.tina.user, crm_a.cara_user):
            with pytest.raises(PermissionDenied):
                make_plan(actor)
            with pytest.raises(PermissionDenied):
                services.plan_archive(actor=actor, plan=plan)
        plan = services.plan_update(actor=crm_a.owner, plan=plan, price=6500)
        assert plan.price == 6500
        plan = services.plan_archive(actor=crm_a.owner, plan=plan)
        assert plan.archived_at is not None
        assert {
            "membership_plan.created",
            "membership_plan.updated",
            "membership_plan.archived",
        } <= set(actions())


def test_a_limited_plan_says_how_many(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        with pytest.raises(ValidationError) as error:
            make_plan(crm_a.owner, grant=Grant.CLASSES_PER_WEEK)
        assert "grant_count" in error.value.message_dict or "__all__" in error.value.message_dict
        plan = make_plan(crm_a.owner, grant=Grant.CLASSES_PER_WEEK, grant_count=2)
        assert plan.grant_count == 2


def test_promotion_codes_are_upper_case_and_unique(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        code = services.promotion_code_create(actor=crm_a.owner, code=" spring ", percent_off=20)
        assert code.code == "SPRING"
        with pytest.raises(ValidationError):
            services.promotion_code_create(actor=crm_a.owner, code="spring", amount_off=500)
        assert services.discounted(10000, code) == 8000


# --- Selling --------------------------------------------------------------------------------


def test_front_desk_sells_a_plan_with_cash(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner, joining_fee=2500)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind=PaymentKind.OFFLINE_CASH
        )
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.current_period_start == gym_today()
        payment = Payment.objects.get(client=crm_a.ann)
        assert (payment.kind, payment.amount, payment.currency) == ("offline_cash", 8500, "EUR")
        assert payment.recorded_by == crm_a.desk
        assert "membership.sold" in actions()
        assert "payment.recorded" in actions()
        # One current membership per client.
        with pytest.raises(ValidationError):
            services.membership_sell(
                actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
            )


def test_trainers_and_clients_cannot_sell(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        for actor in (crm_a.tina.user, crm_a.cara_user):
            with pytest.raises(PermissionDenied):
                services.membership_sell(
                    actor=actor, client=crm_a.cara, plan=plan, payment_kind="offline_cash"
                )


def test_cards_are_not_recorded_by_hand(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        with pytest.raises(ValidationError):
            services.membership_sell(
                actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind=PaymentKind.CARD
            )


def test_a_trial_costs_the_trial_price(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner, trial_days=7, trial_price=500)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_transfer"
        )
        assert membership.status == MembershipStatus.TRIALING
        assert membership.current_period_end == gym_today() + timedelta(days=6)
        assert Payment.objects.get(client=crm_a.ann).amount == 500


def test_archived_plans_are_not_sold(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = services.plan_archive(actor=crm_a.owner, plan=make_plan(crm_a.owner))
        with pytest.raises(ValidationError):
            services.membership_sell(
                actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
            )


def test_selling_a_pack_grants_credits_with_expiry(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, credits=5, expiry_days=30)
        code = services.promotion_code_create(actor=crm_a.owner, code="TENOFF", amount_off=1000)
        credit = services.pack_sell(
            actor=crm_a.desk,
            client=crm_a.bob,
            pack=pack,
            payment_kind="offline_cash",
            promotion_code=code,
        )
        assert (credit.granted, credit.remaining) == (5, 5)
        assert credit.expires_at - timezone.now() > timedelta(days=29)
        assert Payment.objects.get(client=crm_a.bob).amount == 8000


# --- A membership's life --------------------------------------------------------------------


def _sold(crm: CrmGym, **plan_fields: object) -> Membership:
    plan = make_plan(crm.owner, **plan_fields)
    return services.membership_sell(
        actor=crm.desk, client=crm.ann, plan=plan, payment_kind="offline_cash"
    )


def test_changing_plan_prorates_the_rest_of_the_period(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        membership = _sold(crm_a, price=3000)
        dearer = make_plan(crm_a.owner, name="Premium", price=6000)
        with pytest.raises(PermissionDenied):
            services.membership_change(actor=crm_a.desk, membership=membership, plan=dearer)
        membership = services.membership_change(
            actor=crm_a.manager, membership=membership, plan=dearer, payment_kind="offline_cash"
        )
        assert membership.plan == dearer
        proration = Payment.objects.filter(client=crm_a.ann).order_by("pk").last()
        # The whole period is left (sold today): the full difference.
        assert proration.amount == 3000
        assert "prorated" in proration.description
        event = AuditEvent.objects.filter(action="membership.changed").get()
        assert event.changes["proration"]["after"] == 3000


def test_pause_and_resume(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        end = membership.current_period_end
        today = gym_today()
        with pytest.raises(PermissionDenied):
            services.membership_pause(
                actor=crm_a.desk, membership=membership, paused_from=today, paused_until=today
            )
        membership = services.membership_pause(
            actor=crm_a.manager,
            membership=membership,
            paused_from=today,
            paused_until=today + timedelta(days=13),
        )
        assert membership.status == MembershipStatus.PAUSED
        assert membership.current_period_end == end + timedelta(days=14)
        membership = services.membership_resume(actor=crm_a.manager, membership=membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.paused_from is None
        assert membership.current_period_end == end + timedelta(days=1)


def test_cancel_respects_the_minimum_term_unless_overridden(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        membership = _sold(crm_a, minimum_term=6, interval=Interval.MONTH)
        with pytest.raises(ValidationError) as error:
            services.membership_cancel(actor=crm_a.manager, membership=membership)
        assert "membership" in error.value.message_dict
        membership = services.membership_cancel(
            actor=crm_a.manager,
            membership=membership,
            at_period_end=False,
            override_minimum_term=True,
        )
        assert membership.status == MembershipStatus.CANCELLED
        assert membership.ended_on == gym_today()


def test_cancel_at_period_end_then_the_daily_run_ends_it(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        membership = services.membership_cancel(actor=crm_a.owner, membership=membership)
        assert membership.cancel_at_period_end
        assert membership.status == MembershipStatus.ACTIVE
        later = timezone.now() + timedelta(days=40)
        assert services.dunning_run(now=later)["ended"] == 1
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.CANCELLED


# --- Refunds --------------------------------------------------------------------------------


def test_partial_then_full_refund(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        _sold(crm_a, price=5000)
        payment = Payment.objects.get(client=crm_a.ann)
        with pytest.raises(PermissionDenied):
            services.payment_refund(actor=crm_a.desk, payment=payment, reason="x")
        with pytest.raises(ValidationError):
            services.payment_refund(actor=crm_a.manager, payment=payment, reason="  ")
        refund = services.payment_refund(
            actor=crm_a.manager, payment=payment, amount=2000, reason="Moved away"
        )
        assert (refund.kind, refund.amount, refund.refund_of) == ("refund", 2000, payment)
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
        with pytest.raises(ValidationError):
            services.payment_refund(
                actor=crm_a.owner, payment=payment, amount=3001, reason="Too much"
            )
        services.payment_refund(actor=crm_a.owner, payment=payment, reason="The rest")
        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == (PaymentStatus.REFUNDED, 5000)
        with pytest.raises(ValidationError):
            services.payment_refund(actor=crm_a.owner, payment=refund, reason="A refund's refund")
        assert actions().count("payment.refunded") == 2


# --- Dunning and Stripe ---------------------------------------------------------------------


def test_dunning_blocks_then_suspends_and_a_payment_restores(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        membership.stripe_subscription_id = "sub_1"
        membership.save()
        failed_at = timezone.now() - timedelta(days=22)
        payment = services.payment_record_from_stripe(
            stripe_id="in_1",
            client=crm_a.ann,
            amount=6000,
            currency="EUR",
            status=PaymentStatus.FAILED,
            membership=membership,
            failed_attempts=1,
        )
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.PAST_DUE
        Membership.objects.filter(pk=membership.pk).update(past_due_since=failed_at)
        assert list(failed_payments(viewer=crm_a.desk)) == [membership]
        assert "Payment failed" in billing_status_for([crm_a.ann.pk])[crm_a.ann.pk].warning
        assert services.dunning_run()["suspended"] == 1
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.SUSPENDED
        # The same invoice, paid on a retry: restored at once.
        services.payment_record_from_stripe(
            stripe_id="in_1",
            client=crm_a.ann,
            amount=6000,
            currency="EUR",
            status=PaymentStatus.SUCCEEDED,
            membership=membership,
        )
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.past_due_since is None
        assert Payment.objects.filter(stripe_id="in_1").count() == 1
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        # A late "failed" event for the paid invoice changes nothing.
        services.payment_record_from_stripe(
            stripe_id="in_1",
            client=crm_a.ann,
            amount=6000,
            currency="EUR",
            status=PaymentStatus.FAILED,
            membership=membership,
        )
        payment.refresh_from_db()
        membership.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        assert membership.status == MembershipStatus.ACTIVE
        assert {"membership.past_due", "membership.suspended", "membership.recovered"} <= set(
            actions()
        )


def test_subscription_sync_is_idempotent_and_decides_from_state(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner, stripe_price_id="price_1")
        now = int(timezone.now().timestamp())
        subscription = {
            "id": "sub_9",
            "status": "active",
            "metadata": {"client_id": str(crm_a.bob.pk)},
            "items": {"data": [{"price": {"id": "price_1"}}]},
            "current_period_start": now,
            "current_period_end": now + 30 * 86400,
            "start_date": now,
            "cancel_at_period_end": False,
        }
        first = services.membership_sync_from_stripe(subscription=subscription)
        again = services.membership_sync_from_stripe(subscription=subscription)
        assert first.pk == again.pk
        assert first.plan == plan
        assert Membership.objects.filter(stripe_subscription_id="sub_9").count() == 1
        assert actions().count("membership.created_from_stripe") == 1
        assert actions().count("membership.synced_from_stripe") == 0
        ended = services.membership_sync_from_stripe(
            subscription={**subscription, "status": "canceled", "ended_at": now}
        )
        assert ended.status == MembershipStatus.CANCELLED
        with pytest.raises(ValidationError):
            services.membership_sync_from_stripe(
                subscription={**subscription, "id": "sub_other", "metadata": {}}
            )


def test_the_dunning_task_runs_in_the_gym(crm_a: CrmGym) -> None:  # noqa: F811
    from apps.billing.tasks import run_dunning

    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        services.membership_mark_past_due(
            membership=membership, failed_at=timezone.now() - timedelta(days=30)
        )
        assert run_dunning.apply().get()["suspended"] == 1
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.SUSPENDED


# --- Stripe-managed memberships and card payments: Stripe is asked first ------------------------


def test_stripe_is_asked_first_for_its_memberships_and_cards(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    connect(stripe_fake, crm_a.gym)
    stripe = stripe_gateway.gym_client(crm_a.gym)

    def price(name: str, amount: int) -> str:
        return stripe_gateway.catalogue_item_push(
            gym=crm_a.gym, name=name, amount=amount, currency="EUR", interval="month"
        )[1]

    customer = stripe.v1.customers.create({"email": crm_a.ann.email, "source": TEST_CARD}).id
    subscription_id = stripe.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": price("Unlimited", 5000)}]}
    ).id

    def at_stripe() -> dict:
        return stripe.v1.subscriptions.retrieve(subscription_id).to_dict()

    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        Membership.objects.filter(pk=membership.pk).update(stripe_subscription_id=subscription_id)
        membership.refresh_from_db()
        today = gym_today()
        services.membership_pause(
            actor=crm_a.manager,
            membership=membership,
            paused_from=today,
            paused_until=today + timedelta(days=6),
        )
        assert at_stripe()["pause_collection"]["behavior"] == "void"
        services.membership_resume(actor=crm_a.manager, membership=membership)
        assert not at_stripe()["pause_collection"]
        other = make_plan(crm_a.owner, name="Other", price=3000)
        with pytest.raises(ValidationError):  # not at Stripe: Stripe could not charge for it
            services.membership_change(actor=crm_a.manager, membership=membership, plan=other)
        other_price = price("Other", 3000)
        other = services.plan_update(actor=crm_a.owner, plan=other, stripe_price_id=other_price)
        services.membership_change(actor=crm_a.manager, membership=membership, plan=other)
        assert at_stripe()["items"]["data"][0]["price"]["id"] == other_price
        services.membership_cancel(actor=crm_a.owner, membership=membership)
        cancelled = at_stripe()
        assert cancelled["cancel_at_period_end"] or cancelled["status"] == "canceled"
        # A card payment is refunded through Stripe; its refund line carries Stripe's id, so
        # the charge.refunded webhook finds it instead of writing another.
        charge = stripe.v1.charges.create(
            {"amount": 5000, "currency": "eur", "customer": customer}
        ).id
        card = services.payment_record_from_stripe(
            stripe_id=charge, client=crm_a.ann, amount=5000, currency="EUR", stripe_charge_id=charge
        )
        refund = services.payment_refund(
            actor=crm_a.manager, payment=card, amount=1500, reason="Overcharged"
        )
        at_stripe_refund = stripe.v1.refunds.retrieve(refund.stripe_id)
        assert (at_stripe_refund["charge"], at_stripe_refund["amount"]) == (charge, 1500)
        again = services.payment_record_from_stripe(
            stripe_id=refund.stripe_id,
            client=crm_a.ann,
            amount=1500,
            currency="EUR",
            kind=PaymentKind.REFUND,
            refund_of=card,
        )
        assert again.pk == refund.pk
        card.refresh_from_db()
        assert card.refunded_amount == 1500


def test_a_refund_made_in_stripe_marks_the_payment(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        card = services.payment_record_from_stripe(
            stripe_id="pi_2", client=crm_a.ann, amount=4000, currency="EUR"
        )
        for _ in range(2):
            services.payment_record_from_stripe(
                stripe_id="re_dash",
                client=crm_a.ann,
                amount=4000,
                currency="EUR",
                kind=PaymentKind.REFUND,
                refund_of=card,
            )
        card.refresh_from_db()
        assert (card.refunded_amount, card.status) == (4000, PaymentStatus.REFUNDED)
        assert Payment.objects.filter(refund_of=card).count() == 1


def test_a_pack_paid_through_checkout_is_granted_once(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, credits=5, price=6000)
        first = services.pack_grant_from_stripe(
            client=crm_a.cara, pack=pack, stripe_id="pi_pack", amount=4800
        )
        again = services.pack_grant_from_stripe(
            client=crm_a.cara, pack=pack, stripe_id="pi_pack", amount=4800
        )
        assert first is not None
        assert again is None
        payment = Payment.objects.get(stripe_id="pi_pack")
        assert (payment.kind, payment.amount) == (PaymentKind.CARD, 4800)


def test_plans_and_packs_follow_in_stripe_once_committed(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    django_capture_on_commit_callbacks,
) -> None:
    # A gym that takes no cards pushes nothing.
    with tenant_context(crm_a.gym), django_capture_on_commit_callbacks(execute=True):
        make_pack(crm_a.owner)
    assert stripe_fake.calls("/v1/products") == []

    connect(stripe_fake, crm_a.gym)
    stripe = stripe_gateway.gym_client(crm_a.gym)
    with tenant_context(crm_a.gym):
        with django_capture_on_commit_callbacks(execute=True):
            plan = make_plan(crm_a.owner, price=5000)
        plan.refresh_from_db()
        assert plan.stripe_product_id.startswith("prod_")
        price = stripe.v1.prices.retrieve(plan.stripe_price_id)
        assert (price["unit_amount"], price["recurring"]["interval"]) == (5000, "month")
        assert price["active"] is True
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_archive(actor=crm_a.owner, plan=plan)
        assert stripe.v1.prices.retrieve(plan.stripe_price_id)["active"] is False


def test_the_client_is_emailed_once_when_a_renewal_fails(
    crm_a: CrmGym,  # noqa: F811
    django_capture_on_commit_callbacks,
) -> None:
    from django.core import mail

    with tenant_context(crm_a.gym):
        membership = _sold(crm_a)
        with django_capture_on_commit_callbacks(execute=True):
            services.membership_mark_past_due(membership=membership)
            services.membership_mark_past_due(membership=membership)
        from apps.notifications.models import Delivery

        delivery = Delivery.objects.get(kind="payment_failed")
        assert delivery.event_key.startswith(f"payment_failed:{membership.pk}:")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [crm_a.ann.email]
    assert "/portal/memberships/" in mail.outbox[0].body
    assert "did not go through" in mail.outbox[0].subject
