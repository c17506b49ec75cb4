"""A loopback fake of the parts of Stripe that localstripe lacks: Connect (OAuth for Standard
accounts, connected accounts), Checkout Sessions and Customer Portal sessions. Every other
request is passed through to localstripe, so the SDK needs one `api_base` and tests can see
which connected account (`Stripe-Account`) each call carried.

    fake = FakeStripeConnect(upstream="http://127.0.0.1:8420").start()
    fake.url           # api_base and connect_api_base for the SDK
    fake.requests      # [(method, path, stripe_account), ...]
    fake.complete_checkout("cs_...")  # the client paid on Stripe's hosted page
    fake.pay("cs_...")  # ... for what its line items cost, less its coupon (`discounts`)

With `webhook_url` and `webhook_secret` set, the hosted Checkout page (`session["url"]`) has a
Pay button: it completes the session, delivers a signed `checkout.session.completed` to the
app as Stripe would, and sends the browser on to the session's success_url.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _form(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=1) as nested dicts and lists."""
    tree: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = tree
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(tree)


def _encode(tree: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The reverse of `_form`."""
    pairs: list[tuple[str, str]] = []
    items = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else None
    )
    if items is None:
        return [(prefix, "" if tree is None else str(tree))]
    for key, value in items:
        pairs += _encode(value, f"{prefix}[{key}]" if prefix else str(key))
    return pairs


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


class FakeStripeConnect:
    def __init__(self, *, upstream: str | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.accounts: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, str] = {}
        self.deauthorized: set[str] = set()
        self.sessions: dict[str, dict[str, Any]] = {}
        # localstripe knows Plans, not Prices: a recurring price is a plan there (Stripe
        # accepts a plan's id wherever a price id goes), a one-time price lives here.
        self.prices: dict[str, dict[str, Any]] = {}
        self.paused: dict[str, Any] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        # The next N API calls answer 429 with this Retry-After (rate-limit tests).
        self.rate_limit_next = 0
        self.retry_after = "0"
        # What the owner does on Stripe's authorize page: approve, or deny (access_denied).
        self.authorize_outcome = "approve"
        # Where the hosted page's Pay button delivers its event, and the secret it signs with.
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.deliveries: list[tuple[str, int]] = []  # (event type, the app's answer)
        # What each payment intent and subscription create asked for, as Stripe received it
        # (the application fee, off_session, the default payment method), by the object's id.
        self.created_with: dict[str, dict[str, Any]] = {}
        # Stripe answers a repeated POST with the same Idempotency-Key with its first answer;
        # localstripe does not, so creations of intents and subscriptions are kept here.
        self.idempotent: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeStripeConnect:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- what tests arrange ---------------------------------------------------------------

    def account_create(self, *, livemode: bool = False, **fields: Any) -> dict[str, Any]:
        account = {
            "id": _id("acct"),
            "object": "account",
            "type": "standard",
            "livemode": livemode,
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "email": "owner@example.com",
            "settings": {"dashboard": {"display_name": "Test gym"}},
            **fields,
        }
        self.accounts[account["id"]] = account
        return account

    def complete_checkout(self, session_id: str, **changes: Any) -> dict[str, Any]:
        """The client paid on the hosted page: the session is complete and paid."""
        session = self.sessions[session_id]
        session.update(
            {"status": "complete", "payment_status": "paid", "payment_intent": _id("pi"), **changes}
        )
        return session

    def pay(self, session_id: str) -> dict[str, Any]:
        """The client pressed Pay on the hosted page: the session completes, for what its line
        items cost (a card they agreed to keep is saved for their customer), and the app hears
        of it through a signed webhook (when `webhook_url` is set; else the test delivers)."""
        session = self.sessions[session_id]
        if session["status"] != "complete":
            amount = 0
            for item in session["line_items_requested"]:
                price = self.prices.get(str(item.get("price")), {})
                amount += int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1)
                session["currency"] = price.get("currency") or session["currency"]
            # The session's coupon (checked when it was made), as Stripe applies it: a
            # percentage rounded to the nearest minor unit, an amount at most the total.
            discount = 0
            for applied in session["requested"].get("discounts") or []:
                coupon = self.coupon(str(applied.get("coupon"))) or {}
                if coupon.get("percent_off") is not None:
                    discount += round(amount * float(coupon["percent_off"]) / 100)
                else:
                    discount += int(coupon.get("amount_off") or 0)
            discount = min(discount, amount)
            self.complete_checkout(
                session_id,
                amount_subtotal=amount,
                amount_total=amount - discount,
                total_details={"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0},
            )
            intent_data = session["requested"].get("payment_intent_data") or {}
            if intent_data.get("setup_future_usage") and session.get("customer"):
                self.save_card(str(session["customer"]))
        if self.webhook_url:
            self.deliver("checkout.session.completed", session, account=session["stripe_account"])
        return session

    def save_card(self, customer_id: str, number: str = "4242424242424242") -> str:
        """The client saved a card on Stripe's hosted page (a payment with
        `setup_future_usage`): a card payment method attached to their customer at
        localstripe, not made their default (as Stripe does). Its id."""
        card = {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
        status, raw = _upstream_call(
            str(self.upstream), "POST", "/v1/payment_methods", {"type": "card", "card": card}
        )
        if status != 200:
            raise RuntimeError(raw.decode())
        method_id = json.loads(raw)["id"]
        status, raw = _upstream_call(
            str(self.upstream),
            "POST",
            f"/v1/payment_methods/{method_id}/attach",
            {"customer": customer_id},
        )
        if status != 200:
            raise RuntimeError(raw.decode())
        return method_id

    def deliver(self, event_type: str, obj: dict[str, Any], *, account: str | None) -> int:
        """POST one event to the app's webhook endpoint, signed as Stripe signs it."""
        if not self.webhook_url or not self.webhook_secret:
            raise RuntimeError("Set webhook_url and webhook_secret to deliver events")
        event: dict[str, Any] = {
            "id": _id("evt"),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": {k: v for k, v in obj.items() if k != "requested"}},
        }
        if account:
            event["account"] = account
        body = json.dumps(event).encode()
        timestamp = int(time.time())
        digest = hmac.new(
            self.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        request = urllib.request.Request(  # noqa: S310 - the live server on loopback
            self.webhook_url, data=body, method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("Stripe-Signature", f"t={timestamp},v1={digest}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.deliveries.append((event_type, status))
        return status

    def calls(self, path_prefix: str) -> list[tuple[str, str, str | None]]:
        return [call for call in self.requests if call[1].startswith(path_prefix)]

    # --- the endpoints --------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect = query["redirect_uri"]
        if self.authorize_outcome != "approve":
            params = {"error": "access_denied", "state": query.get("state", "")}
            return 302, {"Location": f"{redirect}?{urlencode(params)}"}, b""
        account = self.account_create()
        code = _id("ac")
        self.codes[code] = account["id"]
        params = {"code": code, "scope": "read_write", "state": query.get("state", "")}
        return 302, {"Location": f"{redirect}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        account_id = self.codes.pop(str(form.get("code", "")), None)
        if account_id is None:
            return 400, {"error": "invalid_grant", "error_description": "Authorization code"}
        return 200, {
            "access_token": "sk_test_connected",
            "livemode": self.accounts[account_id]["livemode"],
            "refresh_token": "rt_fake",
            "scope": "read_write",
            "stripe_publishable_key": "pk_test_connected",
            "stripe_user_id": account_id,
            "token_type": "bearer",
        }

    def deauthorize(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        account_id = str(form.get("stripe_user_id", ""))
        if account_id not in self.accounts or account_id in self.deauthorized:
            return 400, {"error": "invalid_client", "error_description": "Not connected"}
        self.deauthorized.add(account_id)
        return 200, {"stripe_user_id": account_id}

    def coupon(self, coupon_id: str) -> dict[str, Any] | None:
        """A Coupon as localstripe has it, or None."""
        status, raw = _upstream_call(str(self.upstream), "GET", f"/v1/coupons/{coupon_id}", {})
        return json.loads(raw) if status == 200 else None

    def discounts_error(self, form: dict[str, Any]) -> dict[str, Any] | None:
        """Stripe's 400 for `discounts` it refuses: an unknown coupon, or `discounts` together
        with `allow_promotion_codes`."""
        discounts = form.get("discounts") or []
        if not discounts:
            return None
        if str(form.get("allow_promotion_codes", "")).lower() == "true":
            message = (
                "You may only specify one of these parameters: allow_promotion_codes, discounts."
            )
            return {"error": {"type": "invalid_request_error", "message": message}}
        for discount in discounts:
            coupon_id = str((discount or {}).get("coupon") or "")
            if not coupon_id or self.coupon(coupon_id) is None:
                message = f"No such coupon: '{coupon_id}'"
                return {"error": {"type": "invalid_request_error", "message": message}}
        return None

    def checkout_create(self, form: dict[str, Any], account: str | None) -> dict[str, Any]:
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "customer": form.get("customer"),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "line_items_requested": form.get("line_items", []),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "payment_intent": None,
            "subscription": None,
            "amount_total": None,
            "currency": None,
            "url": f"{self.url}/pay/{session_id}",
            "stripe_account": account,
            "created": int(time.time()),
            "livemode": False,
            # What the caller asked for, as Stripe received it (fees, payment intent data).
            "requested": form,
        }
        self.sessions[session_id] = session
        return session


class _Handler(BaseHTTPRequestHandler):
    owner: FakeStripeConnect
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK (40 ms a call on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", _id("req"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake = self.owner
        parsed = urlparse(self.path)
        path = parsed.path
        body = self._body()
        account = self.headers.get("Stripe-Account")
        with fake._lock:
            fake.requests.append((method, path, account))
            if path.startswith("/v1/") and fake.rate_limit_next > 0:
                fake.rate_limit_next -= 1
                error = {"error": {"type": "rate_limit_error", "message": "Too many requests"}}
                self._send(429, error, {"Retry-After": fake.retry_after})
                return
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        if path.startswith("/pay/"):
            self._hosted_checkout(method, path.removeprefix("/pay/"))
            return
        if path == "/oauth/authorize" and method == "GET":
            status, headers, raw = fake.authorize(query)
            self._send(status, headers=headers, raw=raw)
            return
        if path == "/oauth/token" and method == "POST":
            self._send(*fake.token(_form(body)))
            return
        if path == "/oauth/deauthorize" and method == "POST":
            self._send(*fake.deauthorize(_form(body)))
            return
        if path.startswith("/v1/accounts/") and method == "GET":
            account_obj = fake.accounts.get(path.rsplit("/", 1)[-1])
            if account_obj is None:
                self._not_found()
            else:
                self._send(200, account_obj)
            return
        if path == "/v1/checkout/sessions" and method == "POST":
            form = _form(body)
            refused = fake.discounts_error(form)
            if refused:
                self._send(400, refused)
            else:
                self._send(200, fake.checkout_create(form, account))
            return
        if path.startswith("/v1/checkout/sessions/") and method == "GET":
            session = fake.sessions.get(path.rsplit("/", 1)[-1])
            # A session is only visible on the account it was made on, as at Stripe.
            if session is None or session["stripe_account"] != account:
                self._not_found()
            else:
                self._send(200, session)
            return
        if path == "/v1/prices" and method == "POST":
            self._price_create(_form(body))
            return
        if path.startswith("/v1/prices/"):
            price = fake.prices.get(path.rsplit("/", 1)[-1])
            if price is None:
                self._not_found()
                return
            if method == "POST":
                form = _form(body)
                if "active" in form:
                    price["active"] = form["active"] == "true"
                price.setdefault("metadata", {}).update(form.get("metadata") or {})
            self._send(200, price)
            return
        key = self.headers.get("Idempotency-Key")
        creating = method == "POST" and path in ("/v1/payment_intents", "/v1/subscriptions")
        if creating and key and (path, key) in fake.idempotent:
            status, raw = fake.idempotent[(path, key)]
            self._send(status, raw=raw)
            return
        if creating:
            self._create_remembered(path, _form(body), key)
            return
        if path.startswith("/v1/subscriptions") and method == "POST":
            form = _form(body)
            for item in form.get("items") or []:
                if isinstance(item, dict) and "price" in item:
                    item["plan"] = item.pop("price")
            if "pause_collection" in form:
                # localstripe has no pausing: kept here and shown on the subscription.
                fake.paused[path.rsplit("/", 1)[-1]] = form.pop("pause_collection") or None
                if not form:  # nothing left for localstripe: answer with the subscription
                    method = "GET"
            body = urlencode(_encode(form)).encode()
        if path == "/v1/billing_portal/sessions" and method == "POST":
            form = _form(body)
            portal_id = _id("bps")
            self._send(
                200,
                {
                    "id": portal_id,
                    "object": "billing_portal.session",
                    "customer": form.get("customer"),
                    "return_url": form.get("return_url"),
                    "url": f"{fake.url}/portal/{portal_id}",
                },
            )
            return
        self._proxy(method, body)

    def _create_remembered(self, path: str, form: dict[str, Any], key: str | None) -> None:
        """Create a payment intent or a subscription at localstripe, without what it does
        not know (Connect's application fees, a subscription's own default payment method,
        discounts), remembering what was asked and, under its idempotency key, the answer."""
        fake = self.owner
        asked = json.loads(json.dumps(form))
        refused = fake.discounts_error(form)
        if refused:
            self._send(400, refused)
            return
        # localstripe's Subscription takes neither `coupon` nor `discounts` (1.15): the
        # coupon is checked above and kept in `created_with`, the invoice is not discounted.
        for name in ("application_fee_amount", "application_fee_percent", "discounts"):
            form.pop(name, None)
        if path == "/v1/payment_intents":
            form.pop("description", None)  # localstripe's intents have none
        method_id = form.pop("default_payment_method", None)
        if path == "/v1/subscriptions":
            for item in form.get("items") or []:
                if isinstance(item, dict) and "price" in item:
                    item["plan"] = item.pop("price")
            if method_id and str(method_id).startswith("pm_"):
                # localstripe pays invoices with the customer's default only.
                _upstream_call(
                    str(fake.upstream),
                    "POST",
                    f"/v1/customers/{form.get('customer')}",
                    {"invoice_settings": {"default_payment_method": method_id}},
                )
        status, raw = self._upstream("POST", path, urlencode(_encode(form)).encode())
        if status == 200:
            created = json.loads(raw)
            if path == "/v1/subscriptions":
                created = _with_prices(created, fake.prices)
                created["pause_collection"] = None
                raw = json.dumps(created).encode()
            fake.created_with[created["id"]] = asked
        key = self.headers.get("Idempotency-Key")
        if key and status < 500:
            fake.idempotent[(path, key)] = (status, raw)
        self._send(status, raw=raw)

    def _price_create(self, form: dict[str, Any]) -> None:
        fake = self.owner
        recurring = form.get("recurring") or None
        price: dict[str, Any] = {
            "object": "price",
            "active": True,
            "currency": form.get("currency"),
            "unit_amount": int(form.get("unit_amount") or 0),
            "product": form.get("product"),
            "recurring": {"interval": recurring["interval"]} if recurring else None,
            "type": "recurring" if recurring else "one_time",
            "metadata": form.get("metadata") or {},
            "livemode": False,
        }
        if recurring:
            plan = {
                "amount": price["unit_amount"],
                "currency": price["currency"],
                "interval": recurring["interval"],
                "product": price["product"],
            }
            status, raw = self._upstream("POST", "/v1/plans", urlencode(_encode(plan)).encode())
            if status != 200:
                self._send(status, raw=raw)
                return
            price["id"] = json.loads(raw)["id"]
        else:
            price["id"] = _id("price")
        fake.prices[price["id"]] = price
        self._send(200, price)

    def _hosted_checkout(self, method: str, session_id: str) -> None:
        """Stripe's hosted Checkout page: what is bought, and a Pay button."""
        fake = self.owner
        session = fake.sessions.get(session_id)
        if session is None:
            self._not_found()
            return
        if method == "POST":
            fake.pay(session_id)
            self._send(303, headers={"Location": str(session["success_url"])}, raw=b"")
            return
        items = "".join(
            f"<li>{html.escape(str(item.get('price')))} x {html.escape(str(item.get('quantity')))}"
            "</li>"
            for item in session["line_items_requested"]
        )
        page = (
            "<!doctype html><html><head><title>Checkout</title></head><body>"
            f"<h1>Pay</h1><ul>{items}</ul>"
            f'<form method="post" action="/pay/{html.escape(session_id)}">'
            '<button type="submit" data-testid="pay">Pay</button></form>'
            f'<a href="{html.escape(str(session["cancel_url"]))}">Back</a></body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _not_found(self) -> None:
        error = {"error": {"type": "invalid_request_error", "message": "No such object"}}
        self._send(404, error)

    def _upstream(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        # Only ever the localstripe URL the tests started (http on loopback).
        request = urllib.request.Request(  # noqa: S310
            str(self.owner.upstream) + path, data=body or None, method=method
        )
        for name in ("Authorization", "Idempotency-Key"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        if body:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _proxy(self, method: str, body: bytes) -> None:
        if self.owner.upstream is None:
            self._not_found()
            return
        status, raw = self._upstream(method, self.path, body)
        if status == 200 and self.path.startswith("/v1/subscriptions"):
            subscription = _with_prices(json.loads(raw), self.owner.prices)
            if subscription.get("object") == "subscription":
                subscription["pause_collection"] = self.owner.paused.get(subscription["id"])
            raw = json.dumps(subscription).encode()
        if status == 404 and not raw.startswith(b"{"):
            self._not_found()  # an endpoint localstripe lacks: Stripe's JSON error shape
            return
        self._send(status, raw=raw)


def _upstream_call(
    upstream: str, method: str, path: str, form: dict[str, Any]
) -> tuple[int, bytes]:
    """A call of the fake's own to localstripe (any secret key passes there)."""
    request = urllib.request.Request(  # noqa: S310 - localstripe on loopback
        upstream + path, data=urlencode(_encode(form)).encode() or None, method=method
    )
    request.add_header("Authorization", "Bearer sk_test_fake")
    if form:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _with_prices(subscription: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    """Subscription items as Stripe shows them today: each with its `price`."""
    for item in (subscription.get("items") or {}).get("data") or []:
        plan = item.get("plan") or {}
        if plan and not item.get("price"):
            item["price"] = prices.get(plan.get("id")) or {
                "id": plan.get("id"),
                "object": "price",
                "unit_amount": plan.get("amount"),
                "currency": plan.get("currency"),
                "recurring": {"interval": plan.get("interval")},
                "product": plan.get("product"),
            }
    return subscription
