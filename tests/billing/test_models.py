"""Billing's database rules: money is integers with a currency, credits never go negative, one
discount per code, the catalogue is protected once sold."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import CreditGrant, Payment, PaymentKind, PromotionCode
from apps.billing.selectors import gym_currency
from tests.billing.factories import make_pack, make_plan
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401


def test_credits_never_go_negative(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        pack = make_pack(crm_a.owner, credits=1)
        credit = services.pack_sell(
            actor=crm_a.desk, client=crm_a.ann, pack=pack, payment_kind="offline_cash"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditGrant.objects.filter(pk=credit.pk).update(remaining=-1)
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditGrant.objects.filter(pk=credit.pk).update(remaining=2)


def test_a_promotion_code_has_one_kind_of_discount(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        with pytest.raises(IntegrityError), transaction.atomic():
            PromotionCode.objects.create(
                code="BOTH", percent_off=10, amount_off=100, currency="EUR"
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            PromotionCode.objects.create(code="NONE", currency="EUR")


def test_a_refund_cannot_exceed_the_payment(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        payment = Payment.objects.create(
            client=crm_a.ann,
            kind=PaymentKind.OFFLINE_CASH,
            amount=1000,
            currency="EUR",
            paid_at=timezone.now(),
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(refunded_amount=1001)


def test_sold_plans_and_packs_are_protected(crm_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        pack = make_pack(crm_a.owner)
        services.membership_sell(
            actor=crm_a.desk, client=crm_a.ann, plan=plan, payment_kind="offline_cash"
        )
        services.pack_sell(
            actor=crm_a.desk, client=crm_a.bob, pack=pack, payment_kind="offline_cash"
        )
        with pytest.raises(ProtectedError), transaction.atomic():
            plan.delete()
        with pytest.raises(ProtectedError), transaction.atomic():
            pack.delete()
        with pytest.raises(ProtectedError), transaction.atomic():
            crm_a.ann.delete()


def test_prices_take_the_gyms_currency(crm_a: CrmGym) -> None:  # noqa: F811
    crm_a.gym.currency = "GBP"
    crm_a.gym.save(update_fields=["currency"])
    with tenant_context(crm_a.gym):
        assert gym_currency() == "GBP"
        assert make_plan(crm_a.owner).currency == "GBP"
