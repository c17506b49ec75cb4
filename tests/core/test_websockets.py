from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator

from fitnesscrm.asgi import application
from tests.conftest import ALPHA, BRAVO, login


def connect(host: str, cookie: str | None):  # type: ignore[no-untyped-def]
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))

    async def run():  # type: ignore[no-untyped-def]
        communicator = WebsocketCommunicator(application, "/ws/whoami/", headers=headers)
        connected, code = await communicator.connect()
        message = await communicator.receive_json_from() if connected else None
        await communicator.disconnect()
        return connected, code, message

    return async_to_sync(run)()


@pytest.mark.django_db
def test_websocket_knows_the_gym_and_the_user(client_a, gym_a):
    login(client_a, ALPHA.owner_email)
    connected, _, message = connect(ALPHA.host, client_a.cookies["sessionid"].value)
    assert connected
    assert message == {"gym": gym_a.schema_name, "user": ALPHA.owner_email, "role": "owner"}


@pytest.mark.django_db
def test_gym_a_session_is_refused_on_gym_b(client_a):
    login(client_a, ALPHA.owner_email)
    connected, code, _ = connect(BRAVO.host, client_a.cookies["sessionid"].value)
    assert not connected
    assert code == 4401


@pytest.mark.django_db
def test_anonymous_and_public_host_are_refused(db):
    assert connect(ALPHA.host, None)[:2] == (False, 4401)
    assert connect("localhost", None)[0] is False


# --- Origin -------------------------------------------------------------------------------


def handshake(headers: list[tuple[bytes, bytes]], scheme: str | None = None):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        communicator = WebsocketCommunicator(application, "/ws/whoami/", headers=headers)
        if scheme is not None:
            communicator.scope["scheme"] = scheme
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(run)()


@pytest.fixture
def session_a(client_a) -> bytes:
    login(client_a, ALPHA.owner_email)
    return f"sessionid={client_a.cookies['sessionid'].value}".encode()


@pytest.mark.django_db
def test_a_sibling_gyms_page_cannot_open_a_websocket_on_another_gym(session_a):
    """Every gym is a subdomain of one site: the browser sends gym A's cookie with a socket
    that gym B's page opens to gym A's host."""
    headers = [(b"host", ALPHA.host.encode()), (b"cookie", session_a)]
    assert handshake([*headers, (b"origin", f"http://{BRAVO.host}".encode())]) == (False, 4403)
    assert handshake([*headers, (b"origin", f"http://{ALPHA.host}".encode())])[0] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "origin", "scheme", "same"),
    [
        ("alpha.localhost:8000", "http://alpha.localhost:8000", None, True),
        ("alpha.localhost:8000", "http://alpha.localhost", None, False),
        ("alpha.localhost", "http://alpha.localhost:8000", None, False),
        ("alpha.localhost", "http://alpha.localhost:80", None, True),
        ("alpha.localhost", "https://alpha.localhost", None, False),
        ("alpha.localhost", "https://alpha.localhost", "wss", True),
        ("alpha.localhost", "http://alpha.localhost", "wss", False),
        ("alpha.localhost", "http://evil.example", None, False),
        ("alpha.localhost", "http://alpha.localhost.evil.example", None, False),
        ("alpha.localhost", "http://localhost", None, False),
        ("alpha.localhost", "null", None, False),
        ("alpha.localhost", "http://alpha.localhost:notaport", None, False),
        ("alpha.localhost", "http://user@alpha.localhost", None, False),
        ("alpha.localhost", None, None, False),
    ],
)
def test_only_the_gyms_own_origin_may_open_a_websocket(session_a, host, origin, scheme, same):
    headers = [(b"host", host.encode()), (b"cookie", session_a)]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    connected, code = handshake(headers, scheme)
    assert connected is same, (host, origin, scheme, code)


@pytest.mark.django_db
def test_behind_a_tls_proxy_the_origin_is_https(session_a, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    headers = [(b"host", ALPHA.host.encode()), (b"cookie", session_a)]
    https = (b"origin", f"https://{ALPHA.host}".encode())
    http = (b"origin", f"http://{ALPHA.host}".encode())
    assert handshake([*headers, https, (b"x-forwarded-proto", b"https")])[0] is True
    assert handshake([*headers, http, (b"x-forwarded-proto", b"https")])[0] is False
    # The underscore spelling is another header, not the proxy's.
    assert handshake([*headers, https, (b"x_forwarded_proto", b"https")])[0] is False
    assert handshake([*headers, http])[0] is True


@pytest.mark.django_db
def test_two_origins_or_two_hosts_are_refused(session_a):
    headers = [(b"host", ALPHA.host.encode()), (b"cookie", session_a)]
    origin = (b"origin", f"http://{ALPHA.host}".encode())
    assert handshake([*headers, origin, (b"origin", b"http://bravo.localhost")])[0] is False
    assert handshake([*headers, origin, (b"host", BRAVO.host.encode())])[0] is False
