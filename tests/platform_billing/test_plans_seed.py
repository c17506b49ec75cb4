"""`manage.py platform_plans_seed`: the default platform plans, made once, priced at Stripe
on request, and nothing while platform billing is off."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.platform_billing.models import PlatformPlan

pytestmark = pytest.mark.django_db


def test_nothing_while_platform_billing_is_off(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PLATFORM_BILLING = False
    call_command("platform_plans_seed", stdout=StringIO())
    assert not PlatformPlan.objects.exists()


def test_the_default_plans_are_made_once_and_never_repriced(billing_on) -> None:  # type: ignore[no-untyped-def]
    call_command("platform_plans_seed", stdout=StringIO())
    PlatformPlan.objects.filter(code="starter").update(amount=3500)
    call_command("platform_plans_seed", stdout=StringIO())
    plans = {plan.code: plan for plan in PlatformPlan.objects.all()}
    assert set(plans) == {"starter", "growth", "unlimited"}
    assert plans["starter"].amount == 3500
    assert plans["unlimited"].max_active_clients is None


def test_stripe_prices_are_made_for_plans_without_one(billing_on, stripe_fake) -> None:  # type: ignore[no-untyped-def]
    PlatformPlan.objects.create(
        code="growth", name="Growth", amount=5900, currency="EUR", stripe_price_id="price_kept"
    )
    call_command("platform_plans_seed", "--stripe", stdout=StringIO())
    prices = dict(PlatformPlan.objects.values_list("code", "stripe_price_id"))
    assert prices["growth"] == "price_kept"
    # localstripe names prices as plans ("plan_...").
    assert prices["starter"]
    assert prices["unlimited"] not in ("", prices["starter"])
    # The platform's own account: no call carries a connected account.
    assert {call[2] for call in stripe_fake.requests} == {None}
    call_command("platform_plans_seed", "--stripe", stdout=StringIO())
    assert dict(PlatformPlan.objects.values_list("code", "stripe_price_id")) == prices
