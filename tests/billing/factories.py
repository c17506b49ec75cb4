"""Billing test helpers: a small catalogue in the current gym (call inside tenant_context), and
the switch that makes booking need a membership. Fixtures come from tests/scheduling/conftest.py
(imported by each test module)."""

from __future__ import annotations

from typing import Any

from apps.billing import services
from apps.billing.models import BillingSettings, CreditKind, Grant, MembershipPlan, Pack


def require_memberships(on: bool = True) -> BillingSettings:
    current = BillingSettings.objects.first() or BillingSettings()
    current.memberships_required = on
    current.save()
    return current


def make_plan(owner: Any, **fields: Any) -> MembershipPlan:
    values: dict[str, Any] = {"name": "Unlimited", "price": 6000, "grant": Grant.UNLIMITED}
    values.update(fields)
    return services.plan_create(actor=owner, **values)


def make_pack(owner: Any, **fields: Any) -> Pack:
    values: dict[str, Any] = {
        "name": "Ten classes",
        "kind": CreditKind.CLASS,
        "credits": 10,
        "price": 9000,
        "expiry_days": 90,
    }
    values.update(fields)
    return services.pack_create(actor=owner, **values)
