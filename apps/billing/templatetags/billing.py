"""Billing in templates: money as people read it, and the client profile's "Membership &
payments" section (an inclusion tag, so the CRM's view needs to know nothing of billing)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from apps.billing import selectors
from apps.billing.forms import (
    CancelForm,
    PauseForm,
    RecordPaymentForm,
    RefundForm,
    SellPackForm,
    SellPlanForm,
)
from apps.billing.models import CURRENT_MEMBERSHIP_STATUSES, PaymentKind
from apps.billing.money import format_money
from apps.billing.views import CHECKOUT_LINK_KEY
from apps.crm.models import Client

register = template.Library()

LEDGER_ROWS = 20


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    return format_money(amount, currency or selectors.gym_currency())


@register.inclusion_tag("billing/_client_billing.html", takes_context=True)
def client_billing(context: Any, client: Client) -> dict[str, Any]:
    viewer = context["request"].user
    if not selectors.can_see_status(viewer, client):
        return {"visible": False}
    memberships = list(selectors.memberships_of(viewer=viewer, client=client)[:5])
    now = timezone.now()
    credits = [
        credit
        for credit in selectors.credits_of(viewer=viewer, client=client).filter(remaining__gt=0)
        if credit.expires_at is None or credit.expires_at > now
    ]
    can_ledger = selectors.can_see_ledger(viewer, client)
    payments = (
        list(selectors.ledger_of(viewer=viewer, client=client)[:LEDGER_ROWS]) if can_ledger else []
    )
    current = next((m for m in memberships if m.status in CURRENT_MEMBERSHIP_STATUSES), None)
    # The Checkout link just sent from this profile (billing.views._sell), shown once.
    session = getattr(context["request"], "session", None)
    sent = session.get(CHECKOUT_LINK_KEY) if session is not None else None
    checkout_link = ""
    if sent and sent.get("client") == client.pk:
        checkout_link = session.pop(CHECKOUT_LINK_KEY)["url"]
    can_sell = selectors.can_sell(viewer)
    can_manage = selectors.can_manage_memberships(viewer)
    return {
        "visible": True,
        "client": client,
        "csrf_token": context.get("csrf_token"),
        "memberships": memberships,
        "current": current,
        "status": selectors.billing_status_for([client.pk])[client.pk],
        "credits": credits,
        "payments": payments,
        "can_ledger": can_ledger,
        "can_sell": can_sell,
        "can_manage": can_manage,
        # The card Stripe last charged, as the ledger learnt it (no call to Stripe per view).
        "card": selectors.card_on_file_seen(client=client) if can_sell else None,
        "checkout_link": checkout_link,
        "currency": selectors.gym_currency(),
        "refundable_kinds": (
            PaymentKind.CARD,
            PaymentKind.OFFLINE_CASH,
            PaymentKind.OFFLINE_TRANSFER,
            PaymentKind.FEE,
        ),
        "sell_plan_form": SellPlanForm(prefix="plan") if can_sell and not current else None,
        "sell_pack_form": SellPackForm(prefix="pack") if can_sell else None,
        "record_form": RecordPaymentForm(prefix="pay") if can_sell else None,
        "refund_form": RefundForm(prefix="refund") if can_manage else None,
        "pause_form": PauseForm(prefix="pause") if can_manage and current else None,
        "cancel_form": CancelForm(prefix="cancel") if can_manage and current else None,
    }


@register.inclusion_tag("billing/_status_badge.html")
def billing_badge(statuses: dict[int, Any] | None, client_id: int) -> dict[str, Any]:
    """A client's membership status at check-in, with a warning. `statuses` is the list's
    (check_in_statuses: two queries for all rows); a single row asks for its own."""
    if isinstance(statuses, dict):
        return {"status": statuses.get(client_id)}
    if not selectors.billing_in_use():
        return {"status": None}
    return {"status": selectors.billing_status_for([client_id])[client_id]}
