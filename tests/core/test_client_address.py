"""One client address rule (apps.core.client_address) for throttles, lockouts, allauth and the
audit log; the web server and the HTTP bridge leave the address to it."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from gunicorn.config import Config as GunicornConfig
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from apps.accounts.adapters import AccountAdapter
from apps.core.asgi import wsgi_environ
from apps.core.client_address import client_address
from tests.conftest import ALPHA
from tests.core.test_asgi import run_coroutine

ROOT = Path(__file__).resolve().parents[2]


def request(**meta: str):  # type: ignore[no-untyped-def]
    return RequestFactory().get("/", **meta)


# --- The rule -----------------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    forged = request(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_address(forged) == "192.0.2.10"


def test_the_entry_our_outermost_proxy_appended_is_the_client(settings):
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.1, 198.51.100.7"}
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(**meta)) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request(**meta)) == "203.0.113.1"
    # More proxies than entries: the farthest entry one of ours wrote, never a 500.
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_address(request(**meta)) == "203.0.113.1"


def test_odd_values_are_no_address_and_ports_are_dropped(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(HTTP_X_FORWARDED_FOR="not-an-ip")) is None
    assert client_address(request(HTTP_X_FORWARDED_FOR="198.51.100.7:4431")) == "198.51.100.7"
    assert client_address(request(HTTP_X_FORWARDED_FOR="[2001:DB8::1]:443")) == "2001:db8::1"
    assert client_address(request(HTTP_X_FORWARDED_FOR=" , ", REMOTE_ADDR="10.0.0.9")) == (
        "10.0.0.9"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request(REMOTE_ADDR="")) is None


def test_allauth_reads_the_same_rule(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # allauth's own reading raises ImproperlyConfigured (a 500) on a header this short.
    short = request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AccountAdapter().get_client_ip(short) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert AccountAdapter().get_client_ip(short) == "10.0.0.2"


def test_one_function_for_every_consumer(settings):
    from apps.audit.services import RequestContext
    from apps.core.api.throttling import client_ip

    assert settings.AXES_CLIENT_IP_CALLABLE == "apps.core.client_address.client_address"
    assert client_ip is client_address
    settings.TRUSTED_PROXY_COUNT = 1
    forged = request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7")
    assert RequestContext(forged).ip == "198.51.100.7"


@pytest.mark.django_db
def test_drf_throttles_count_by_the_rule(monkeypatch, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = APIClient(HTTP_HOST=ALPHA.host)

    # Four clients behind our proxy: four counters.
    for n in range(4):
        client.defaults["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        assert client.get("/api/v1/schema/").status_code == 200
    # One client making up what comes before our proxy's entry: one counter.
    statuses = []
    for n in range(4):
        client.defaults["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}, 192.0.2.44"
        statuses.append(client.get("/api/v1/schema/").status_code)
    assert statuses == [200, 200, 200, 429]


# --- The header spelled with underscores --------------------------------------------------


def scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": ("192.0.2.10", 5000),
    }


def test_an_underscore_spelling_never_becomes_the_forwarding_header(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    environ = wsgi_environ(
        scope([(b"x-forwarded-for", b"198.51.100.7"), (b"x_forwarded_for", b"203.0.113.66")]),
        io.BytesIO(),
        0,
    )
    assert environ["HTTP_X_FORWARDED_FOR"] == "198.51.100.7"
    assert client_address(WSGIRequest(environ)) == "198.51.100.7"

    alone = wsgi_environ(scope([(b"x_forwarded_for", b"203.0.113.66")]), io.BytesIO(), 0)
    assert "HTTP_X_FORWARDED_FOR" not in alone
    assert client_address(WSGIRequest(alone)) == "192.0.2.10"
    # Any other header too: X_Session_Token must not pass for X-Session-Token.
    token = wsgi_environ(scope([(b"x_session_token", b"abc")]), io.BytesIO(), 0)
    assert "HTTP_X_SESSION_TOKEN" not in token


# --- The web server -----------------------------------------------------------------------


def web_commands() -> list[str]:
    procfile = (ROOT / "Procfile").read_text()
    web = re.search(r"^web:\s*(.+)$", procfile, re.MULTILINE)
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \[.*"exec (gunicorn [^"]+)"\]', dockerfile, re.MULTILINE)
    assert web
    assert cmd
    return [web.group(1), cmd.group(1)]


@pytest.mark.parametrize("command", web_commands())
def test_the_web_server_never_rewrites_the_client_address(command):
    """gunicorn's uvicorn worker hands forwarded_allow_ips to uvicorn, whose proxy-header
    middleware would replace the peer with the X-Forwarded-For value of a trusted peer. Even
    with FORWARDED_ALLOW_IPS="*" in the environment, the command line trusts no peer."""
    config = GunicornConfig()
    config.set("forwarded_allow_ips", "*")  # what FORWARDED_ALLOW_IPS="*" would give
    # As the shell expands it: ${NAME:-default} to the default, $PORT to a port.
    expanded = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command).replace("$PORT", "8000")
    args = shlex.split(expanded)
    parsed = config.parser().parse_args(args[1:])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)

    seen: list[tuple] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope["client"])

    middleware = ProxyHeadersMiddleware(app, trusted_hosts=config.forwarded_allow_ips)
    run_coroutine(
        middleware(
            {
                "type": "http",
                "client": ("127.0.0.1", 5000),
                "headers": [(b"x-forwarded-for", b"203.0.113.66")],
            },
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
        )
    )
    assert seen == [("127.0.0.1", 5000)]
