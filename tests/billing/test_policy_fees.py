"""Late-cancel and no-show fees: when scheduling records a strike and the gym set a fee for it,
a task charges the client's card on file after commit (once per strike however often it runs),
and the fee is a line of the client's ledger linked to the strike. No card or a decline: the
fee is failed and listed for the desk to collect. A waived strike is not charged; waiving one
already charged refunds it. Against localstripe and our fake, nothing of ours mocked."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing import services, stripe_gateway
from apps.billing.models import Payment, PaymentKind, PaymentStatus
from apps.billing.tasks import charge_strike_fee
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassBooking, Strike
from apps.scheduling.policies import services as policy_services
from tests.billing.test_card_on_file import DECLINED, save_card, written
from tests.billing.test_pages import browser_as
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401
from tests.scheduling.test_policies import make_class


@pytest.fixture
def account_a(stripe_fake: FakeStripeConnect, crm_a: CrmGym):  # type: ignore[no-untyped-def]  # noqa: F811
    return connect(stripe_fake, crm_a.gym)


def set_fees(crm: CrmGym, **fees: int | None) -> None:
    with tenant_context(crm.gym):
        services.billing_settings_update(actor=crm.owner, **fees)


def no_show(crm: CrmGym, capture: Any) -> Strike:
    """Ann misses a class that started two hours ago; the desk marks it (and it commits)."""
    with tenant_context(crm.gym):
        occurrence = make_class(crm, in_hours=-2)
        booking = ClassBooking.objects.create(occurrence=occurrence, client=crm.ann)
        with capture(execute=True):
            class_services.booking_mark_no_show(actor=crm.desk, booking=booking)
        return Strike.objects.get(class_booking=booking)


def fee_of(crm: CrmGym, strike: Strike) -> Payment:
    with tenant_context(crm.gym):
        return Payment.objects.get(reference=f"strike:{strike.pk}")


def intent_posts(fake: FakeStripeConnect) -> list[Any]:
    return [call for call in fake.calls("/v1/payment_intents") if call[0] == "POST"]


def test_a_no_show_fee_is_charged_to_the_card_once_however_often_the_task_runs(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    set_fees(crm_a, no_show_fee=1500, late_cancel_fee=800)
    method = save_card(stripe_fake, crm_a)
    stripe_fake.requests.clear()
    strike = no_show(crm_a, django_capture_on_commit_callbacks)
    fee = fee_of(crm_a, strike)
    assert (fee.kind, fee.status, fee.amount) == (PaymentKind.FEE, PaymentStatus.SUCCEEDED, 1500)
    assert fee.client_id == crm_a.ann.pk
    assert fee.stripe_id.startswith("pi_")
    assert "No-show fee" in fee.description
    assert (fee.card_brand, fee.card_last4) == ("visa", "4242")
    asked = stripe_fake.created_with[fee.stripe_id]
    assert asked["payment_method"] == method
    assert asked["off_session"] == "true"
    assert asked["metadata"]["strike"] == str(strike.pk)
    # The task again, twice (a redelivery, a retry): nothing more is charged or written.
    with tenant_context(crm_a.gym):
        assert charge_strike_fee.apply(args=[strike.pk]).get() is None
        assert charge_strike_fee.apply(args=[strike.pk]).get() is None
        assert Payment.objects.filter(kind=PaymentKind.FEE).count() == 1
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert len(intent_posts(stripe_fake)) == 1
    assert {"fee.scheduled", "payment.recorded", "fee.charged"} <= set(actions)
    # The client's profile ledger shows it.
    page = browser_as(crm_a, "desk").get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert "No-show fee" in page


def test_a_run_cut_short_after_stripe_charged_gets_the_same_charge_back(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    """The worker died after Stripe charged and before the line was closed: the retry asks
    Stripe with the same idempotency key and records that one charge."""
    set_fees(crm_a, no_show_fee=1500)
    save_card(stripe_fake, crm_a)
    strike = no_show(crm_a, django_capture_on_commit_callbacks)
    fee = fee_of(crm_a, strike)
    first_intent = fee.stripe_id
    with tenant_context(crm_a.gym):
        Payment.objects.filter(pk=fee.pk).update(status=PaymentStatus.PENDING, stripe_id="")
        charge_strike_fee.apply(args=[strike.pk]).get()
        fee.refresh_from_db()
    assert fee.status == PaymentStatus.SUCCEEDED
    assert fee.stripe_id == first_intent


def test_no_card_or_a_decline_leaves_a_failed_fee_for_the_desk(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
) -> None:
    set_fees(crm_a, no_show_fee=1500)
    strike = no_show(crm_a, django_capture_on_commit_callbacks)  # no card on file yet
    fee = fee_of(crm_a, strike)
    assert fee.status == PaymentStatus.FAILED
    assert "no card on file" in fee.reason.lower()
    save_card(stripe_fake, crm_a, DECLINED)
    declined = fee_of(crm_a, no_show(crm_a, django_capture_on_commit_callbacks))
    assert declined.status == PaymentStatus.FAILED
    assert "declined" in declined.reason.lower()
    desk = browser_as(crm_a, "desk")
    with django_assert_max_num_queries(25):
        page = desk.get("/billing/failed-payments/").content.decode()
    assert page.count('data-testid="failed-fee"') == 2
    assert "15.00" in page
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="fee.failed").count() == 2
    # The desk takes it in cash: paid, off the list.
    response = desk.post(f"/billing/fees/{fee.pk}/collect/", {"fee-kind": "offline_cash"})
    assert response.status_code == 302
    fee.refresh_from_db()
    assert fee.status == PaymentStatus.SUCCEEDED
    page = desk.get("/billing/failed-payments/").content.decode()
    assert page.count('data-testid="failed-fee"') == 1


def test_waiving_before_the_charge_charges_nothing_and_after_it_refunds(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    set_fees(crm_a, no_show_fee=1500)
    save_card(stripe_fake, crm_a)
    stripe_fake.requests.clear()
    # Waived in the same transaction as it was recorded: never charged.
    with tenant_context(crm_a.gym):
        occurrence = make_class(crm_a, in_hours=-2)
        booking = ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
        with django_capture_on_commit_callbacks(execute=True):
            class_services.booking_mark_no_show(actor=crm_a.desk, booking=booking)
            strike = Strike.objects.get(class_booking=booking)
            policy_services.strike_waive(actor=crm_a.manager, strike=strike, reason="Ill")
        assert not Payment.objects.filter(reference=f"strike:{strike.pk}").exists()
    assert intent_posts(stripe_fake) == []
    # Charged, then waived: refunded in full, reason "strike waived".
    strike = no_show(crm_a, django_capture_on_commit_callbacks)
    fee = fee_of(crm_a, strike)
    assert fee.status == PaymentStatus.SUCCEEDED
    with tenant_context(crm_a.gym):
        with django_capture_on_commit_callbacks(execute=True):
            policy_services.strike_waive(actor=crm_a.manager, strike=strike, reason="Train late")
        fee.refresh_from_db()
        assert fee.status == PaymentStatus.REFUNDED
        refund = Payment.objects.get(refund_of=fee)
        assert (refund.kind, refund.amount, refund.reason) == (
            PaymentKind.REFUND,
            1500,
            "strike waived",
        )
        assert refund.stripe_id.startswith("re_")
        # Waived again: nothing more.
        with django_capture_on_commit_callbacks(execute=True):
            policy_services.strike_waive(actor=crm_a.manager, strike=strike, reason="Again")
        assert Payment.objects.filter(refund_of=fee).count() == 1
    refunds = stripe_gateway.charge_refunds_list(
        account_id=account_a.account_id, charge_id=fee.stripe_charge_id
    )
    assert [r["amount"] for r in refunds] == [1500]


def test_a_waived_failed_fee_leaves_the_list_and_no_fee_means_just_the_credit(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    strike = no_show(crm_a, django_capture_on_commit_callbacks)  # no fee set
    with tenant_context(crm_a.gym):
        assert not Payment.objects.filter(reference=f"strike:{strike.pk}").exists()
    set_fees(crm_a, no_show_fee=1500)
    strike = no_show(crm_a, django_capture_on_commit_callbacks)  # no card: failed
    with tenant_context(crm_a.gym), django_capture_on_commit_callbacks(execute=True):
        policy_services.strike_waive(actor=crm_a.owner, strike=strike, reason="Our mistake")
    fee = fee_of(crm_a, strike)
    assert fee.status == PaymentStatus.WAIVED
    page = browser_as(crm_a, "desk").get("/billing/failed-payments/").content.decode()
    assert 'data-testid="failed-fee"' not in page


def test_the_fees_are_set_on_the_billing_settings_form(crm_a: CrmGym) -> None:  # noqa: F811
    manager = browser_as(crm_a, "manager")
    response = manager.post(
        "/billing/settings/",
        {
            "settings-dunning_block_days": 7,
            "settings-dunning_suspend_days": 21,
            "settings-late_cancel_fee": "8.50",
            "settings-no_show_fee": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        from apps.billing.selectors import billing_settings

        current = billing_settings()
        assert (current.late_cancel_fee, current.no_show_fee) == (850, None)
    page = manager.get("/billing/").content.decode()
    assert 'name="settings-late_cancel_fee" value="8.5' in page


def test_gym_b_cannot_collect_or_see_gym_a_fees(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    set_fees(crm_a, no_show_fee=1500)
    fee = fee_of(crm_a, no_show(crm_a, django_capture_on_commit_callbacks))
    assert fee.status == PaymentStatus.FAILED
    desk_b = browser_as(crm_b, "desk")
    assert (
        'data-testid="failed-fee"' not in desk_b.get("/billing/failed-payments/").content.decode()
    )
    with tenant_context(crm_b.gym):
        assert not Payment.objects.filter(pk=fee.pk, kind=PaymentKind.FEE).exists()
    response = desk_b.post(f"/billing/fees/{fee.pk}/collect/", {"fee-kind": "offline_cash"})
    assert response.status_code == 404
    with tenant_context(crm_a.gym):
        fee.refresh_from_db()
        assert fee.status == PaymentStatus.FAILED
    assert written(crm_b) == (0, 0, 0)


def test_stripe_unreachable_is_retried_then_the_fee_is_left_failed_for_the_desk(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
    account_a,
    django_capture_on_commit_callbacks,
) -> None:
    import stripe
    from celery.exceptions import Retry

    from apps.billing.tasks import FEE_MAX_RETRIES

    set_fees(crm_a, no_show_fee=1500)
    save_card(stripe_fake, crm_a)
    stripe_fake.requests.clear()
    stripe_fake.rate_limit_next = 10_000  # every call answers 429 until the end of the test
    with tenant_context(crm_a.gym):
        occurrence = make_class(crm_a, in_hours=-2)
        booking = ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
        # The first run: Stripe answers 429 (after the SDK's own retries): retried later.
        with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
            class_services.booking_mark_no_show(actor=crm_a.desk, booking=booking)
        strike = Strike.objects.get(class_booking=booking)
        fee = Payment.objects.get(reference=f"strike:{strike.pk}")
        assert fee.status == PaymentStatus.PENDING
        # The last retry: still nothing from Stripe, so the fee is failed for the desk.
        with pytest.raises(stripe.RateLimitError):
            charge_strike_fee.apply(args=[strike.pk], retries=FEE_MAX_RETRIES)
        fee.refresh_from_db()
    assert fee.status == PaymentStatus.FAILED
    assert "could not be reached" in fee.reason
    assert intent_posts(stripe_fake) == []
