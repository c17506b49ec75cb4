"""What each Stripe event means for a gym: the object as Stripe has it now, read into the
gym's billing services (apps.billing.services). Called by apps.connect.services inside the
gym's schema, once per event; each handler is also safe to run twice (billing's syncs find
their rows by Stripe id), because two different events can be about one object."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apps.audit.services import audit_record

logger = logging.getLogger(__name__)

Handler = Callable[..., None]


def _metadata_id(obj: dict[str, Any], *names: str) -> int | None:
    metadata = obj.get("metadata") or {}
    for name in names:
        value = metadata.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def _client_id(obj: dict[str, Any]) -> int | None:
    client_id = _metadata_id(obj, "client", "client_id")
    if client_id is None and str(obj.get("client_reference_id") or "").isdigit():
        client_id = int(obj["client_reference_id"])
    return client_id


def _client(obj: dict[str, Any]) -> Any:
    from apps.crm.models import Client

    client_id = _client_id(obj)
    return Client.objects.filter(pk=client_id).first() if client_id else None


def _ref(value: Any) -> str:
    """The id of a related object, whether Stripe sent it as an id or expanded."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "")


def _when(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), tz=UTC) if timestamp else None


def _subscription_of_invoice(invoice: dict[str, Any]) -> str:
    # Older API versions name it at the top; 2025 versions under parent.subscription_details.
    subscription = invoice.get("subscription")
    if not subscription:
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        subscription = details.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    return str(subscription or "")


def subscription_sync(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """customer.subscription.created|updated|deleted: the membership follows the
    subscription's current status, period, pause and cancellation."""
    from apps.billing.services import membership_sync_from_stripe

    # Ids only: the client and plan are read when the membership is made, not on each update.
    membership_sync_from_stripe(
        subscription=obj,
        client_id=_client_id(obj),
        plan_id=_metadata_id(obj, "plan", "plan_id"),
    )


def _membership_from_subscription(
    subscription_id: str,
    event_type: str,
    event_id: str,
    *,
    extra_metadata: dict[str, Any] | None = None,
) -> Any:
    """The membership of a subscription, made from Stripe's current copy when an event about
    something else (a checkout, an invoice) arrives before the subscription's own event."""
    from apps.billing.models import Membership
    from apps.billing.stripe_gateway import stripe_object_retrieve

    subscription = stripe_object_retrieve(
        account_id=_account_id(), obj={"object": "subscription", "id": subscription_id}
    )
    metadata = subscription.setdefault("metadata", {})
    for key, value in (extra_metadata or {}).items():
        metadata.setdefault(key, value)
    subscription_sync(obj=subscription, event_type=event_type, event_id=event_id)
    return Membership.objects.select_related("client").get(stripe_subscription_id=subscription_id)


def checkout_completed(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """checkout.session.completed: a paid pack gives its credits (once: the payment line is
    unique per payment intent); a subscription becomes a membership."""
    from apps.billing import services as billing
    from apps.billing.models import Pack, Payment, PaymentKind

    if obj.get("status") != "complete":
        return
    client = _client(obj)
    if client is None:
        logger.warning("Checkout session %s names no client of this gym", obj.get("id"))
        return
    if obj.get("mode") == "subscription" and obj.get("subscription"):
        _membership_from_subscription(
            _ref(obj["subscription"]), event_type, event_id, extra_metadata=obj.get("metadata")
        )
        return
    if obj.get("payment_status") not in ("paid", "no_payment_required"):
        return
    pack_id = _metadata_id(obj, "pack", "pack_id")
    pack = Pack.objects.filter(pk=pack_id).first() if pack_id else None
    if pack is None:
        return
    stripe_id = _ref(obj.get("payment_intent")) or str(obj["id"])
    if Payment.objects.filter(stripe_id=stripe_id).exists():
        return
    grant = getattr(billing, "pack_grant_from_stripe", None)
    if grant is not None:
        grant(client=client, pack=pack, stripe_id=stripe_id, amount=obj.get("amount_total"))
        return
    billing.pack_sell(
        actor=None,
        client=client,
        pack=pack,
        payment_kind=PaymentKind.CARD,
        payment_extra={"stripe_id": stripe_id},
    )


def payment_intent_succeeded(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """payment_intent.succeeded: a pack charged to the card on file at the desk, or paid
    through Checkout, gives its credits once: the sale (or the checkout's own event) wrote
    its payment line under the intent's id, which this finds, adding nothing. It writes them
    only when that sale's own write never happened. Other intents (fees, invoices) have
    their lines already and are left alone."""
    from apps.billing.models import Pack, Payment
    from apps.billing.services import pack_grant_from_stripe, payment_card_learn
    from apps.billing.stripe_gateway import charge_of

    if obj.get("status") != "succeeded":
        return
    stripe_id = str(obj["id"])
    line = Payment.objects.filter(stripe_id=stripe_id).values("card_last4").first()
    if line is not None and line["card_last4"]:
        return  # ours, with its card known: nothing to add
    pack_id = _metadata_id(obj, "pack", "pack_id")
    if line is None and pack_id is None:
        return  # an invoice's or another app's payment: its own events record it
    card = _card_that_paid(obj)
    if line is not None:
        payment_card_learn(stripe_id=stripe_id, card=card or {})
        return
    client = _client(obj)
    pack = Pack.objects.filter(pk=pack_id).first()
    if client is None or pack is None:
        logger.warning("Payment intent %s names no client or pack of this gym", obj.get("id"))
        return
    amount = obj.get("amount_received") or obj.get("amount")
    pack_grant_from_stripe(
        client=client,
        pack=pack,
        stripe_id=stripe_id,
        amount=int(amount) if amount else None,
        stripe_charge_id=charge_of(obj),
        card=card,
    )


def _card_that_paid(intent: dict[str, Any]) -> dict[str, str] | None:
    """The card of a payment intent, for the profile's "card on file" (a Checkout payment
    tells us no more than its payment method's id). Unknown to Stripe: None."""
    import stripe

    from apps.billing.stripe_gateway import payment_method_card

    method = _ref(intent.get("payment_method"))
    if not method:
        return None
    try:
        return payment_method_card(account_id=_account_id(), payment_method_id=method)
    except stripe.InvalidRequestError:
        return None


def invoice_sync(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """invoice.paid / invoice.payment_failed: one ledger line per invoice, paid or failed as
    the invoice is now (a failure retried and paid ends up paid, whichever event is last)."""
    from apps.billing.models import Membership, PaymentStatus
    from apps.billing.services import payment_record_from_stripe

    subscription_id = _subscription_of_invoice(obj)
    membership = (
        Membership.objects.select_related("client")
        .filter(stripe_subscription_id=subscription_id)
        .first()
        if subscription_id
        else None
    )
    if membership is None and subscription_id:
        # The invoice's event came first: the subscription's own event is still on its way.
        membership = _membership_from_subscription(subscription_id, event_type, event_id)
    client = membership.client if membership is not None else _client(obj)
    if client is None:
        logger.warning("Invoice %s names no client of this gym", obj.get("id"))
        return
    paid = obj.get("status") == "paid" or bool(obj.get("paid"))
    amount = int(obj.get("amount_paid") or 0) if paid else int(obj.get("amount_due") or 0)
    if amount < 1:
        return
    transitions = obj.get("status_transitions") or {}
    payment_record_from_stripe(
        stripe_id=str(obj["id"]),
        client=client,
        amount=amount,
        currency=str(obj.get("currency") or "").upper(),
        status=PaymentStatus.SUCCEEDED if paid else PaymentStatus.FAILED,
        description=str(obj.get("description") or obj.get("number") or "")[:200],
        paid_at=_when(transitions.get("paid_at") or obj.get("created")),
        stripe_invoice_id=str(obj["id"]),
        stripe_charge_id=_ref(obj.get("charge")),
        hosted_invoice_url=str(obj.get("hosted_invoice_url") or ""),
        membership=membership,
        failed_attempts=int(obj.get("attempt_count") or 0) if not paid else 0,
    )


def _payment_for_charge(charge: dict[str, Any]) -> Any:
    from django.db.models import Q

    from apps.billing.models import Payment

    keys = [_ref(charge.get(k)) for k in ("id", "payment_intent", "invoice") if charge.get(k)]
    return (
        Payment.objects.filter(Q(stripe_id__in=keys) | Q(stripe_charge_id=charge.get("id")))
        .exclude(kind="refund")
        .first()
    )


def _account_id() -> str | None:
    from apps.connect.selectors import connected_account_for_gym
    from apps.tenants.selectors import current_gym

    account = connected_account_for_gym(gym=current_gym())
    return account.account_id if account else None


def charge_refunded(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """charge.refunded: each refund of the charge, as Stripe lists them now, is a refund line
    of the payment it returns, and raises that payment's refunded amount, once per refund id
    (a refund made in FitnessCRM already has its line; a refund in an earlier or later event
    is found by its id). A charge of an invoice whose own event is still on its way records
    the invoice first."""
    from apps.billing.models import PaymentKind, PaymentStatus
    from apps.billing.services import payment_record_from_stripe
    from apps.billing.stripe_gateway import charge_refunds_list, stripe_object_retrieve

    payment = _payment_for_charge(obj)
    invoice_id = _ref(obj.get("invoice"))
    if payment is None and invoice_id:
        invoice = stripe_object_retrieve(
            account_id=_account_id(), obj={"object": "invoice", "id": invoice_id}
        )
        invoice_sync(obj=invoice, event_type=event_type, event_id=event_id)
        payment = _payment_for_charge(obj)
    if payment is None:
        logger.warning("Refunded charge %s matches no payment of this gym", obj.get("id"))
        return
    refunds = charge_refunds_list(account_id=_account_id(), charge_id=str(obj["id"]))
    for refund in sorted(refunds, key=lambda refund: (refund.get("created") or 0, refund["id"])):
        if refund.get("status") not in (None, "succeeded", "pending"):
            continue
        payment_record_from_stripe(
            stripe_id=str(refund["id"]),
            client=payment.client,
            amount=int(refund.get("amount") or 0),
            currency=str(refund.get("currency") or obj.get("currency") or "").upper(),
            kind=PaymentKind.REFUND,
            status=PaymentStatus.SUCCEEDED,
            description=str(refund.get("reason") or "")[:200],
            paid_at=_when(refund.get("created")),
            stripe_charge_id=_ref(obj.get("id")),
            refund_of=payment,
        )


def dispute_created(*, obj: dict[str, Any], event_type: str, event_id: str) -> None:
    """charge.dispute.created: the client's bank is taking the money back; staff must answer
    at Stripe. Recorded in the gym's audit log against the payment."""
    payment = _payment_for_charge(
        {"id": obj.get("charge"), "payment_intent": obj.get("payment_intent")}
    )
    audit_record(
        action="payment.disputed",
        actor=None,
        object_type="billing.payment" if payment is not None else "stripe.dispute",
        object_id=str(payment.pk) if payment is not None else str(obj.get("id", "")),
        changes={
            "dispute": {"before": None, "after": obj.get("id")},
            "amount": {"before": None, "after": obj.get("amount")},
            "reason": {"before": None, "after": obj.get("reason")},
        },
    )


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": subscription_sync,
    "customer.subscription.updated": subscription_sync,
    "customer.subscription.deleted": subscription_sync,
    "payment_intent.succeeded": payment_intent_succeeded,
    "invoice.paid": invoice_sync,
    "invoice.payment_failed": invoice_sync,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
}
