"""Every call FitnessCRM makes to Stripe for a gym, on the official SDK.

A `StripeClient` is built per call: its base URLs come from settings (tests point them at
fakes on loopback), and in Connect mode it carries the gym's connected account, so each
request goes out with `Stripe-Account: acct_...` and can never act on another gym's account.
In direct mode (a self-hosted instance without Connect) the environment's own keys are used.
POSTs carry an idempotency key: the SDK adds one when it may retry, and callers that create
money pass their own so a retried task does not charge twice.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import stripe
from django.conf import settings

from apps.platform_billing import selectors as platform_fees
from apps.tenants.models import Gym

# Longest wait a Retry-After may ask of us; past it we give up and the caller's own retry
# (a Celery task's backoff) takes over rather than holding a worker.
MAX_RETRY_AFTER_SECONDS = 10.0


class StripeNotConnectedError(Exception):
    """The gym has not connected a Stripe account (or has disconnected it)."""


class _RateLimitAwareHttpClient(stripe.RequestsClient):
    """The SDK's requests client, also retrying 429 (rate limited) and sleeping as long as
    `Retry-After` says. The SDK alone retries 429 only when Stripe adds `Stripe-Should-Retry`,
    and its backoff ignores `Retry-After`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._retry_after = threading.local()

    def _should_retry(  # type: ignore[override]
        self,
        response: tuple[Any, int, Mapping[str, str]] | None,
        api_connection_error: Any,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        self._retry_after.seconds = None
        if response is not None:
            _, status_code, headers = response
            if status_code == 429 and num_retries < (max_network_retries or 0):
                self._retry_after.seconds = _retry_after_seconds(headers)
                return True
        return super()._should_retry(
            response, api_connection_error, num_retries, max_network_retries
        )

    def _sleep_time_seconds(self, num_retries: int) -> float:
        asked = getattr(self._retry_after, "seconds", None)
        if asked is not None:
            return asked
        return super()._sleep_time_seconds(num_retries)


def _retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


_http_client: _RateLimitAwareHttpClient | None = None
_http_client_lock = threading.Lock()


def _shared_http_client() -> _RateLimitAwareHttpClient:
    # One connection pool per process (requests.Session is per thread inside the SDK client),
    # so a burst of calls reuses TLS connections instead of opening one per call.
    global _http_client
    with _http_client_lock:
        if _http_client is None:
            _http_client = _RateLimitAwareHttpClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
        return _http_client


def _secret_key() -> str:
    key = settings.STRIPE_LIVE_SECRET_KEY if settings.STRIPE_LIVE_MODE else ""
    return key or settings.STRIPE_TEST_SECRET_KEY


def is_direct_mode() -> bool:
    return settings.STRIPE_MODE == "direct"


def platform_client() -> stripe.StripeClient:
    """The platform's own account: Connect OAuth, and reading connected accounts."""
    return _client(stripe_account=None)


def _client(*, stripe_account: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        _secret_key(),
        stripe_account=stripe_account,
        client_id=settings.STRIPE_CONNECT_CLIENT_ID or None,
        base_addresses={
            "api": settings.STRIPE_API_BASE,
            "connect": settings.STRIPE_CONNECT_API_BASE,
        },
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=_shared_http_client(),
    )


def gym_account_id(gym: Gym) -> str | None:
    """The connected account calls for `gym` carry; None in direct mode."""
    if is_direct_mode():
        return None
    from apps.connect.selectors import connected_account_for_gym

    account = connected_account_for_gym(gym=gym)
    if account is None:
        raise StripeNotConnectedError(gym.schema_name)
    return account.account_id


def gym_client(gym: Gym) -> stripe.StripeClient:
    """A client whose every call acts on `gym`'s Stripe account."""
    return _client(stripe_account=gym_account_id(gym))


def account_client(account_id: str | None) -> stripe.StripeClient:
    """A client for a connected account named by an event (None: direct mode's own keys)."""
    return _client(stripe_account=None if is_direct_mode() else account_id)


def _options(idempotency_key: str | None) -> dict[str, Any]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


def _gym_metadata(gym: Gym, metadata: Mapping[str, Any] | None) -> dict[str, str]:
    # `gym` routes events in direct mode (one account for every gym); in Connect mode the
    # event's account decides and this is only for people reading the Stripe dashboard.
    return {**{k: str(v) for k, v in (metadata or {}).items()}, "gym": gym.subdomain}


# --- Customers -------------------------------------------------------------------------------


def customer_ensure(
    *, gym: Gym, client: Any, customer_id: str = "", email: str = "", name: str = ""
) -> str:
    """The Stripe customer id of a CRM client of `gym`: `customer_id` if one is known, else
    the customer made for this client before (found by email and our metadata), else a new
    one. Creation carries an idempotency key, so two racing calls make one customer."""
    if customer_id:
        return customer_id
    found = customer_find(gym=gym, client=client, email=email)
    if found:
        return found
    stripe_client = gym_client(gym)
    email = email or getattr(client, "email", "") or ""
    name = name or str(client)
    client_ref = str(client.pk)
    customer = stripe_client.v1.customers.create(
        {
            "email": email,
            "name": name,
            "metadata": _gym_metadata(gym, {"client": client_ref}),
        },
        _options(f"customer-{gym.schema_name}-{client_ref}"),
    )
    return customer.id


def customer_find(*, gym: Gym, client: Any, email: str = "") -> str:
    """The Stripe customer made for this CRM client before (by email and our metadata), or
    "" when there is none (nothing is created)."""
    email = email or getattr(client, "email", "") or ""
    if not email:
        return ""
    client_ref = str(client.pk)
    customers = gym_client(gym).v1.customers.list({"email": email, "limit": 100})
    # Every page: one email may have many customers (people who share an address, clients
    # made again), and which page holds this client's is up to Stripe's order.
    for customer in customers.auto_paging_iter():
        metadata = customer.get("metadata") or {}
        if metadata.get("client") == client_ref and metadata.get("gym") == gym.subdomain:
            return customer.id
    return ""


def _card_details(method: Mapping[str, Any]) -> dict[str, str]:
    # A PaymentMethod carries its card under `card`; an older Card source at the top.
    card = method.get("card") or method
    return {
        "id": str(method.get("id") or ""),
        "brand": str(card.get("brand") or ""),
        "last4": str(card.get("last4") or ""),
    }


def payment_method_card(*, account_id: str | None, payment_method_id: str) -> dict[str, str]:
    """A payment method's card ({"id", "brand", "last4"}) on the account an event named."""
    method = account_client(account_id).v1.payment_methods.retrieve(payment_method_id)
    return _card_details(method.to_dict())


def customer_card_on_file(*, gym: Gym, client: Any) -> dict[str, str] | None:
    """The card Stripe keeps for this client ({"customer", "id", "brand", "last4"}), or None:
    the customer's default payment method, else their default card source, else the card
    they saved last (a Checkout payment with `setup_future_usage` attaches it without making
    it the default)."""
    customer_id = customer_find(gym=gym, client=client)
    if not customer_id:
        return None
    stripe_client = gym_client(gym)
    customer = stripe_client.v1.customers.retrieve(customer_id).to_dict()
    settings_ = customer.get("invoice_settings") or {}
    default = settings_.get("default_payment_method") or customer.get("default_source")
    method: Mapping[str, Any] | None = None
    if isinstance(default, dict):
        method = default
    elif default:
        method = stripe_client.v1.payment_methods.retrieve(str(default)).to_dict()
    else:
        saved = stripe_client.v1.payment_methods.list(
            {"customer": customer_id, "type": "card", "limit": 10}
        ).to_dict()
        cards = saved.get("data") or []
        method = cards[-1] if cards else None
    if not method:
        return None
    return {"customer": customer_id, **_card_details(method)}


def payment_intent_off_session(
    *,
    gym: Gym,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    idempotency_key: str,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Charge a saved card now, the client not present (`off_session`). Returns the intent:
    `succeeded`, or `requires_action` when the bank wants the client to authenticate
    (3-D Secure; the caller cancels it). A decline raises `stripe.CardError`."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "off_session": True,
        "metadata": _gym_metadata(gym, metadata),
    }
    if description:
        params["description"] = description[:200]
    fee = None if is_direct_mode() else platform_fees.application_fee_for(gym, amount)
    if fee:
        params["application_fee_amount"] = fee
    intent = gym_client(gym).v1.payment_intents.create(params, _options(idempotency_key))
    return intent.to_dict()


def payment_intent_retrieve(*, gym: Gym, payment_intent_id: str) -> dict[str, Any]:
    return gym_client(gym).v1.payment_intents.retrieve(payment_intent_id).to_dict()


def payment_intent_cancel(*, gym: Gym, payment_intent_id: str) -> None:
    gym_client(gym).v1.payment_intents.cancel(payment_intent_id)


def charge_of(intent: Mapping[str, Any]) -> str:
    """The charge id of a payment intent, whichever API version shaped it."""
    charge = intent.get("latest_charge")
    if not charge:
        charges = (intent.get("charges") or {}).get("data") or []
        charge = charges[0] if charges else ""
    if isinstance(charge, dict):
        charge = charge.get("id")
    return str(charge or "")


def subscription_create_off_session(
    *,
    gym: Gym,
    customer_id: str,
    payment_method_id: str,
    price_id: str,
    idempotency_key: str,
    metadata: Mapping[str, Any] | None = None,
    trial_days: int = 0,
    coupon_id: str = "",
    joining_fee: int = 0,
    currency: str = "",
    description: str = "",
) -> dict[str, Any]:
    """A subscription charged to a saved card, its first invoice paid now. A decline raises
    `stripe.CardError` (nothing is left at Stripe: `error_if_incomplete`); a card that needs
    authentication leaves it `incomplete` (the caller cancels it). A joining fee is a pending
    invoice item, which the first invoice takes in."""
    stripe_client = gym_client(gym)
    item_id = ""
    if joining_fee:
        item_id = stripe_client.v1.invoice_items.create(
            {
                "customer": customer_id,
                "amount": joining_fee,
                "currency": currency.lower(),
                "description": description[:200],
            },
            _options(f"{idempotency_key}-joining"),
        ).id
    params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": price_id}],
        "default_payment_method": payment_method_id,
        "payment_behavior": "error_if_incomplete",
        "metadata": _gym_metadata(gym, metadata),
    }
    if trial_days:
        params["trial_period_days"] = trial_days
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    percent = None if is_direct_mode() else platform_fees.application_fee_percent()
    if percent:
        params["application_fee_percent"] = percent
    try:
        subscription = stripe_client.v1.subscriptions.create(params, _options(idempotency_key))
    except stripe.StripeError:
        if item_id:
            stripe_client.v1.invoice_items.delete(item_id)
        raise
    return subscription.to_dict()


def invoice_retrieve(*, gym: Gym, invoice_id: str) -> dict[str, Any]:
    return gym_client(gym).v1.invoices.retrieve(invoice_id).to_dict()


# --- Checkout and the Customer Portal --------------------------------------------------------


def checkout_session_create(
    *,
    gym: Gym,
    client: Any,
    line_items: Sequence[Mapping[str, Any]],
    mode: str,
    success_url: str,
    cancel_url: str,
    metadata: Mapping[str, Any] | None = None,
    customer_id: str = "",
    idempotency_key: str | None = None,
    subscription_data: Mapping[str, Any] | None = None,
    allow_promotion_codes: bool = True,
    amount: int = 0,
    save_card: bool = False,
    coupon_id: str = "",
) -> stripe.checkout.Session:
    """A hosted Checkout page for `client` (`mode` "payment" for packs and drop-ins,
    "subscription" for memberships). `line_items` are Stripe's: `{"price": id, "quantity": n}`.
    The metadata comes back on `checkout.session.completed` and tells billing what was sold.
    `amount` (minor units) is what a payment comes to, for the platform's fee on it.
    `save_card`: a payment keeps the card for later off-session charges (a subscription keeps
    its card anyway). `coupon_id`: a promotion code's Coupon applied to the session (Stripe
    refuses `allow_promotion_codes` with `discounts`: the code was typed with us instead)."""
    if mode not in ("payment", "subscription"):
        raise ValueError(f"Unknown Checkout mode {mode!r}")
    customer = customer_ensure(gym=gym, client=client, customer_id=customer_id)
    full_metadata = _gym_metadata(gym, {"client": client.pk, **(metadata or {})})
    params: dict[str, Any] = {
        "mode": mode,
        "customer": customer,
        "line_items": [dict(item) for item in line_items],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(client.pk),
        "metadata": full_metadata,
    }
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    else:
        params["allow_promotion_codes"] = allow_promotion_codes
    # The platform's fee is taken from a connected account's payments only: in direct mode
    # the gym's money is the instance's own.
    fee_applies = not is_direct_mode()
    if mode == "subscription":
        params["subscription_data"] = {
            **(subscription_data or {}),
            "metadata": {**(subscription_data or {}).get("metadata", {}), **full_metadata},
        }
        percent = platform_fees.application_fee_percent() if fee_applies else None
        if percent:
            params["subscription_data"]["application_fee_percent"] = percent
    else:
        params["payment_intent_data"] = {"metadata": full_metadata}
        if save_card:
            params["payment_intent_data"]["setup_future_usage"] = "off_session"
        fee = platform_fees.application_fee_for(gym, amount) if fee_applies else None
        if fee:
            params["payment_intent_data"]["application_fee_amount"] = fee
    return gym_client(gym).v1.checkout.sessions.create(params, _options(idempotency_key))


def customer_portal_session_create(
    *, gym: Gym, client: Any, return_url: str, customer_id: str = ""
) -> stripe.billing_portal.Session:
    """A Stripe Customer Portal session where the client manages cards and invoices."""
    customer = customer_ensure(gym=gym, client=client, customer_id=customer_id)
    return gym_client(gym).v1.billing_portal.sessions.create(
        {"customer": customer, "return_url": return_url}
    )


# --- Catalogue: Products, Prices, Coupons ----------------------------------------------------


def catalogue_item_push(
    *,
    gym: Gym,
    name: str,
    amount: int,
    currency: str,
    interval: str | None = None,
    product_id: str = "",
    price_id: str = "",
    active: bool = True,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Keep one catalogue item (a plan or a pack) in step with a Stripe Product and Price;
    returns (product id, price id). Prices are immutable at Stripe: a changed amount, currency
    or interval makes a new Price and archives the old one (sold subscriptions keep theirs).
    An archived item's Product and Price are deactivated, never deleted."""
    stripe_client = gym_client(gym)
    currency = currency.lower()
    product_metadata = _gym_metadata(gym, metadata)
    if product_id:
        stripe_client.v1.products.update(
            product_id, {"name": name, "active": active, "metadata": product_metadata}
        )
    else:
        product_id = stripe_client.v1.products.create(
            {"name": name, "metadata": product_metadata}
        ).id
    if price_id:
        price = stripe_client.v1.prices.retrieve(price_id)
        recurring = price.get("recurring") or {}
        unchanged = (
            price.get("unit_amount") == amount
            and (price.get("currency") or "").lower() == currency
            and (recurring.get("interval") if recurring else None) == interval
        )
        if unchanged:
            if bool(price.get("active", True)) != active:
                stripe_client.v1.prices.update(price_id, {"active": active})
            return product_id, price_id
        stripe_client.v1.prices.update(price_id, {"active": False})
    if not active:
        return product_id, price_id
    params: dict[str, Any] = {"product": product_id, "unit_amount": amount, "currency": currency}
    if interval:
        params["recurring"] = {"interval": interval}
    return product_id, stripe_client.v1.prices.create(params).id


def coupon_id_for(
    *, gym: Gym, code: str, percent_off: int | None, amount_off: int | None, currency: str
) -> str:
    """The id of the Coupon for a promotion code's discount: named after the gym (codes of gyms
    sharing one account in direct mode stay apart), the code and the discount, so a second
    push finds the coupon it made and a changed discount is another coupon."""
    discount = f"{percent_off}pct" if percent_off is not None else f"{amount_off}{currency}"
    raw = f"{gym.subdomain}-{code}-{discount}".lower()
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in raw)


def coupon_push(
    *,
    gym: Gym,
    code: str,
    percent_off: int | None = None,
    amount_off: int | None = None,
    currency: str = "",
    coupon_id: str = "",
    active: bool = True,
) -> str:
    """Keep a promotion code's Stripe Coupon in step; returns the coupon id ("" when the code
    is inactive). Coupons cannot change at Stripe: a changed discount (or code) makes a new
    coupon and deletes the old one, and deactivating deletes it. Deleting only stops new
    uses (Stripe keeps the discount on what already used it), and no client can type a coupon
    id at Stripe: we apply it by id, so the code's current coupon is the only one in use."""
    stripe_client = gym_client(gym)
    wanted = coupon_id_for(
        gym=gym, code=code, percent_off=percent_off, amount_off=amount_off, currency=currency
    )
    if coupon_id and (coupon_id != wanted or not active):
        coupon_delete(gym=gym, coupon_id=coupon_id)
        coupon_id = ""
    if not active or coupon_id:
        return coupon_id
    params: dict[str, Any] = {
        "id": wanted,
        "duration": "once",
        "metadata": {"code": code, "gym": gym.subdomain},
    }
    if percent_off is not None:
        params["percent_off"] = percent_off
    else:
        params["amount_off"] = amount_off
        params["currency"] = currency.lower()
    try:
        # No idempotency key of ours: a coupon deleted then made again (deactivated, then
        # activated) reuses its id, and a replayed first answer would name a deleted coupon.
        return stripe_client.v1.coupons.create(params).id
    except stripe.StripeError as error:
        # Made by an earlier try whose answer was lost (Stripe: 400 resource_already_exists;
        # localstripe: 409): the id says it has this discount.
        if getattr(error, "http_status", None) not in (400, 409):
            raise
        try:
            return stripe_client.v1.coupons.retrieve(wanted).id
        except stripe.StripeError:
            raise error from None


def coupon_delete(*, gym: Gym, coupon_id: str) -> None:
    """Delete a Coupon (gone already is fine)."""
    try:
        gym_client(gym).v1.coupons.delete(coupon_id)
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise


# --- Subscriptions, refunds ------------------------------------------------------------------


def subscription_pause(*, gym: Gym, subscription_id: str, resumes_at: int | None = None) -> Any:
    """Freeze a membership: Stripe stops invoicing (`pause_collection`) until `resumes_at`
    (a Unix time) or until resumed."""
    pause: dict[str, Any] = {"behavior": "void"}
    if resumes_at is not None:
        pause["resumes_at"] = resumes_at
    return gym_client(gym).v1.subscriptions.update(subscription_id, {"pause_collection": pause})


def subscription_resume(*, gym: Gym, subscription_id: str) -> Any:
    return gym_client(gym).v1.subscriptions.update(subscription_id, {"pause_collection": ""})


def subscription_cancel(*, gym: Gym, subscription_id: str, at_period_end: bool) -> Any:
    stripe_client = gym_client(gym)
    if at_period_end:
        return stripe_client.v1.subscriptions.update(
            subscription_id, {"cancel_at_period_end": True}
        )
    return stripe_client.v1.subscriptions.cancel(subscription_id)


def subscription_change_price(
    *, gym: Gym, subscription_id: str, price_id: str, prorate: bool = True
) -> Any:
    """Move a subscription to another plan's price; Stripe prorates the difference."""
    stripe_client = gym_client(gym)
    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id)
    items = subscription["items"]["data"]
    params: dict[str, Any] = {"items": [{"id": items[0]["id"], "price": price_id}]}
    if not prorate:
        params["proration_behavior"] = "none"  # Stripe prorates unless told not to
    return stripe_client.v1.subscriptions.update(subscription_id, params)


def refund_create(
    *,
    gym: Gym,
    charge_id: str = "",
    payment_intent_id: str = "",
    amount: int | None = None,
    reason: str | None = None,
    idempotency_key: str,
    metadata: Mapping[str, Any] | None = None,
) -> stripe.Refund:
    """Refund a card payment in full (`amount` None) or in part. The idempotency key is
    required: a refund retried after a timeout must not go out twice."""
    params: dict[str, Any] = {"metadata": _gym_metadata(gym, metadata)}
    if reason:
        # Stripe's own codes (duplicate, fraudulent, requested_by_customer); the staff's
        # words go in our ledger and in `metadata`.
        params["reason"] = reason
    if charge_id:
        params["charge"] = charge_id
    elif payment_intent_id:
        params["payment_intent"] = payment_intent_id
    else:
        raise ValueError("A refund needs a charge or a payment intent")
    if amount is not None:
        params["amount"] = amount
    return gym_client(gym).v1.refunds.create(params, _options(idempotency_key))


def charge_refunds_list(*, account_id: str | None, charge_id: str) -> list[dict[str, Any]]:
    """Every refund of a charge as Stripe has it now (a charge's events leave its refunds
    out since API version 2022-11-15, and an older event lists fewer)."""
    refunds = account_client(account_id).v1.refunds.list({"charge": charge_id, "limit": 100})
    return [refund.to_dict() for refund in refunds.auto_paging_iter()]


# --- Reading the current state of what an event is about --------------------------------------

# What `stripe_object_retrieve` knows how to read again, by the object's `object` field.
_RETRIEVERS = {
    "checkout.session": lambda c, i: c.v1.checkout.sessions.retrieve(i),
    "subscription": lambda c, i: c.v1.subscriptions.retrieve(i),
    "invoice": lambda c, i: c.v1.invoices.retrieve(i),
    "charge": lambda c, i: c.v1.charges.retrieve(i),
    "dispute": lambda c, i: c.v1.disputes.retrieve(i),
    "refund": lambda c, i: c.v1.refunds.retrieve(i),
    "payment_intent": lambda c, i: c.v1.payment_intents.retrieve(i),
    "account": lambda c, i: c.v1.accounts.retrieve(i),
}


def stripe_object_retrieve(*, account_id: str | None, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object an event is about, as Stripe has it now (events arrive late, twice and out
    of order; only the current state is worth acting on). Falls back to the event's copy for
    a kind we do not read back."""
    retrieve = _RETRIEVERS.get(str(obj.get("object", "")))
    if retrieve is None or not obj.get("id"):
        return dict(obj)
    try:
        current = retrieve(account_client(account_id), obj["id"])
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            # Gone at Stripe (a deleted subscription some fakes forget): the event's copy is
            # the last state there is.
            return dict(obj)
        raise
    return current.to_dict()
