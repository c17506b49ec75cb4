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
