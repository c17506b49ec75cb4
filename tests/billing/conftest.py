"""Stripe on loopback for billing and Connect tests: localstripe (a stateful fake Stripe, on
PyPI) started once per run as a subprocess, with our own fake in front of it for what it lacks
(Connect, Checkout, the Customer Portal: tests/fakes/stripe_connect.py). The SDK's base URLs
point at the fake, which passes everything else through to localstripe."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.stripe_connect import FakeStripeConnect

WEBHOOK_SECRET = "whsec_test_" + "a" * 24
SECRET_KEY = "sk_test_platform"
CONNECT_CLIENT_ID = "ca_test_fitnesscrm"
# A card as localstripe takes it in `source` (it knows no tok_visa).
TEST_CARD = {
    "object": "card",
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2030",
    "cvc": "123",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _localstripe_command(port: int) -> list[str]:
    executable = shutil.which("localstripe", path=str(Path(sys.executable).parent))
    if executable:
        return [executable, "--port", str(port), "--from-scratch"]
    return [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"]


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on a free loopback port for the whole run; fails the run if it does not
    answer within 20 seconds."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("wb")
    process = subprocess.Popen(
        _localstripe_command(port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            pytest.fail(f"localstripe exited with {process.returncode} (log: {log.name})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"localstripe did not start on port {port} (log: {log.name})")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def stripe_fake_server(localstripe_url: str) -> Iterator[FakeStripeConnect]:
    fake = FakeStripeConnect(upstream=localstripe_url).start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server: FakeStripeConnect, settings: Any) -> FakeStripeConnect:
    """The SDK pointed at the fakes, in Connect mode, with a real webhook secret; each test
    starts with an empty request log and no rate limiting."""
    settings.STRIPE_MODE = "connect"
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = SECRET_KEY
    settings.STRIPE_CONNECT_CLIENT_ID = CONNECT_CLIENT_ID
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_fake_server.url
    settings.STRIPE_CONNECT_API_BASE = stripe_fake_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_fake_server.requests.clear()
    stripe_fake_server.rate_limit_next = 0
    stripe_fake_server.authorize_outcome = "approve"
    return stripe_fake_server


def event_payload(
    event_type: str,
    obj: dict[str, Any],
    *,
    account: str | None = None,
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Stripe event as the webhook endpoint receives it."""
    payload: dict[str, Any] = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": created or int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    if account:
        payload["account"] = account
    return payload


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it: HMAC-SHA256 of "{t}.{body}"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def deliver(client: Any, payload: dict[str, Any], **sign_kwargs: Any) -> Any:
    """POST one signed delivery to the webhook endpoint on the public host."""
    body = json.dumps(payload).encode()
    return client.post(
        "/integrations/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, **sign_kwargs),
    )
