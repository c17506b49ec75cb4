"""One client address rule (apps.core.client_address) for throttles, lockouts, allauth and the
audit log; the servers leave the address to it."""

from __future__ import annotations

import io
import re
import runpy
import shlex
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from gunicorn.config import Config as GunicornConfig
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.http.parser import RequestParser
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.adapters import AccountAdapter
from apps.core.client_address import client_address
from tests.conftest import ALPHA

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


def gunicorn_environ(raw_headers: bytes) -> dict:
    """The WSGI environ gunicorn builds for a request with these header lines, configured by
    our gunicorn.conf.py."""
    config = GunicornConfig()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    raw = b"GET / HTTP/1.1\r\nHost: alpha.localhost\r\n" + raw_headers + b"\r\n"
    parsed = next(RequestParser(config, iter([raw]), ("192.0.2.10", 5000)))

    class Socket:
        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", 8000)

    _, environ = gunicorn_wsgi.create(
        parsed, Socket(), ("192.0.2.10", 5000), ("127.0.0.1", 8000), config
    )
    return environ


def test_an_underscore_spelling_never_becomes_the_forwarding_header(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    environ = gunicorn_environ(
        b"X-Forwarded-For: 198.51.100.7\r\nX_Forwarded_For: 203.0.113.66\r\n"
    )
    assert environ["HTTP_X_FORWARDED_FOR"] == "198.51.100.7"
    assert client_address(WSGIRequest({**environ, "wsgi.input": io.BytesIO()})) == "198.51.100.7"

    alone = gunicorn_environ(b"X_Forwarded_For: 203.0.113.66\r\n")
    assert "HTTP_X_FORWARDED_FOR" not in alone
    assert client_address(WSGIRequest({**alone, "wsgi.input": io.BytesIO()})) == "192.0.2.10"
    # Any other header too: X_Session_Token must not pass for X-Session-Token.
    assert "HTTP_X_SESSION_TOKEN" not in gunicorn_environ(b"X_Session_Token: abc\r\n")


# --- The servers --------------------------------------------------------------------------


def test_gunicorn_trusts_no_forwarding_header():
    """Even with FORWARDED_ALLOW_IPS="*" in the environment, gunicorn.conf.py trusts no peer, so
    the peer's address stays REMOTE_ADDR."""
    config = GunicornConfig()
    config.set("forwarded_allow_ips", "*")  # what FORWARDED_ALLOW_IPS="*" would give
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    assert config.forwarded_allow_ips == []
    assert config.header_map == "drop"
    environ = gunicorn_environ(b"X-Forwarded-For: 203.0.113.66\r\n")
    assert environ["REMOTE_ADDR"] == "192.0.2.10"


def test_the_realtime_server_never_rewrites_the_client_address():
    procfile = (ROOT / "Procfile").read_text()
    realtime = re.search(r"^realtime:\s*(.+)$", procfile, re.MULTILINE)
    assert realtime
    assert realtime.group(1).startswith("uvicorn ")
    assert "--no-proxy-headers" in shlex.split(realtime.group(1))
