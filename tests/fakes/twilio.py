"""A loopback fake of Twilio's Programmable Messaging: the Messages API the official SDK calls
(`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, Basic auth with the account SID and
auth token, form-encoded, 201 with the message's JSON as Twilio answers), its errors (21211
invalid 'To', 21610 opted out, 20429 with Retry-After, 20003 bad credentials), and Twilio's
side of the callbacks: signed status callbacks (queued, sent, delivered) to each message's
StatusCallback and signed inbound texts to a Messaging Service's incoming URL.

    fake = FakeTwilio(account_sid="AC...", auth_token="...").start()
    fake.url                      # TWILIO_BASE_URL
    fake.messages                 # what was sent, by SID
    fake.requests                 # every API call: (method, path, form)
    fake.deliver_status(sid)      # queued -> sent -> delivered, each a signed POST
    fake.inbound(frm, body, service_sid=..., url=...)   # a person texts the gym

Callbacks are POSTed by `transport(url, params, headers) -> status code`: real HTTP by
default; tests in a transaction pass one that uses Django's test client. `callback_host`
rewrites where they go (a tunnel, or a proxy in front of the app) while the signature stays
that of the URL Twilio was given, as with a real proxy.

The signature is computed here from Twilio's documented algorithm (HMAC-SHA1 keyed with the
auth token over the URL followed by each POST parameter's name and value, sorted by name;
base64), not with the SDK's RequestValidator that the app checks it with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

API_VERSION = "2010-04-01"
Transport = Callable[[str, dict[str, str], dict[str, str]], int]


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature for a POST of `params` to `url`."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def http_transport(url: str, params: dict[str, str], headers: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 (the app under test, on loopback)
        url,
        data=urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class FakeTwilio:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        transport: Transport | None = None,
        pool_number: str = "+15005550006",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.transport: Transport = transport or http_transport
        self.pool_number = pool_number
        self.callback_host: str | None = None
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        # Numbers Twilio refuses: not a valid 'To' (21211), opted out with STOP (21610).
        self.invalid_numbers: set[str] = set()
        self.opted_out: set[str] = set()
        # Messaging Services that exist; empty accepts any MG... SID.
        self.services: set[str] = set()
        # The next N API calls answer 429 with this Retry-After (rate-limit tests).
        self.rate_limit_next = 0
        self.retry_after = "3"
        self.callbacks: list[tuple[str, dict[str, str], int]] = []  # (url, params, answer)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
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

    def message_calls(self) -> list[dict[str, str]]:
        return [form for method, path, form in self.requests if path.endswith("/Messages.json")]

    # --- Twilio's side of the callbacks ----------------------------------------------------

    def post(self, url: str, params: dict[str, str], *, signature: str | None = None) -> int:
        """A signed POST of `params` to `url`, as Twilio makes it (`signature` forges one)."""
        signed = twilio_signature(self.auth_token, url, params)
        target = url
        if self.callback_host:
            parts = urlsplit(url)
            host = urlsplit(self.callback_host)
            target = parts._replace(scheme=host.scheme, netloc=host.netloc).geturl()
        status = self.transport(
            target, params, {"X-Twilio-Signature": signature if signature is not None else signed}
        )
        self.callbacks.append((url, params, status))
        return status

    def status_params(self, sid: str, status: str, *, error_code: str = "") -> dict[str, str]:
        message = self.messages[sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"] or self.pool_number,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code:
            params["ErrorCode"] = error_code
        return params

    def send_status(self, sid: str, status: str, *, error_code: str = "") -> int:
        """One status callback for message `sid` to its StatusCallback URL."""
        message = self.messages[sid]
        message["status"] = status
        if not message["status_callback"]:
            return 0
        return self.post(
            message["status_callback"], self.status_params(sid, status, error_code=error_code)
        )

    def deliver_status(self, sid: str, statuses: tuple[str, ...] = ("queued", "sent", "delivered")):
        """The callbacks of a message that reaches the phone: queued, sent, delivered."""
        return [self.send_status(sid, status) for status in statuses]

    def inbound_params(
        self, *, frm: str, body: str, service_sid: str, to: str | None = None
    ) -> dict[str, str]:
        sid = _sid("SM")
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": frm,
            "FromCountry": "GB",
            "MessageSid": sid,
            "MessagingServiceSid": service_sid,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to or self.pool_number,
            "ToCountry": "US",
        }

    def inbound(self, *, frm: str, body: str, service_sid: str, url: str, **extra: Any) -> int:
        """Someone texts `body` from `frm` to a number of the Messaging Service `service_sid`,
        whose incoming-message URL is `url`. Twilio honours STOP and START on its side too."""
        keyword = body.strip().upper()
        if keyword in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"):
            self.opted_out.add(frm)
        elif keyword in ("START", "YES", "UNSTOP"):
            self.opted_out.discard(frm)
        return self.post(
            url, self.inbound_params(frm=frm, body=body, service_sid=service_sid), **extra
        )

    # --- the Messages API -------------------------------------------------------------------

    def create_message(self, form: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return (
                429,
                _error(20429, "Too Many Requests", 429),
                {"Retry-After": self.retry_after},
            )
        to = form.get("To", "")
        if not to:
            return 400, _error(21604, "A 'To' phone number is required.", 400), {}
        service = form.get("MessagingServiceSid", "")
        if not service and not form.get("From"):
            return 400, _error(21603, "A 'From' phone number is required.", 400), {}
        if service and self.services and service not in self.services:
            return 400, _error(21701, "The Messaging Service Sid is invalid.", 400), {}
        if not form.get("Body"):
            return 400, _error(21602, "Message body is required.", 400), {}
        if to in self.invalid_numbers or not to.startswith("+"):
            return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400), {}
        if to in self.opted_out:
            return (
                400,
                _error(21610, "Attempt to send to unsubscribed recipient", 400),
                {},
            )
        sid = _sid("SM")
        now = formatdate(usegmt=True)
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "status_callback": form.get("StatusCallback") or None,
        }
        with self._lock:
            self.messages[sid] = message
        body = {key: value for key, value in message.items() if key != "status_callback"}
        return 201, body, {}


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTwilio
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.owner.account_sid) and hmac.compare_digest(
            password, self.owner.auth_token
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = dict(parse_qsl(raw, keep_blank_values=True))
        path = urlsplit(self.path).path
        self.owner.requests.append(("POST", path, form))
        if not self._authorised():
            self._send(401, _error(20003, "Authenticate", 401))
            return
        expected = f"/{API_VERSION}/Accounts/{self.owner.account_sid}/Messages.json"
        if path != expected:
            self._send(404, _error(20404, "The requested resource was not found", 404))
            return
        status, body, headers = self.owner.create_message(form)
        self._send(status, body, headers)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.owner.requests.append(("GET", path, {}))
        if not self._authorised():
            self._send(401, _error(20003, "Authenticate", 401))
            return
        prefix = f"/{API_VERSION}/Accounts/{self.owner.account_sid}/Messages/"
        sid = path[len(prefix) : -len(".json")] if path.startswith(prefix) else ""
        message = self.owner.messages.get(sid)
        if message is None:
            self._send(404, _error(20404, "The requested resource was not found", 404))
            return
        self._send(200, {k: v for k, v in message.items() if k != "status_callback"})
