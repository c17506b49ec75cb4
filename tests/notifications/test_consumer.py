"""The bell's WebSocket through the ASGI application (channels-redis when REDIS_URL is set):
the count on connect, a push when a notification arrives, and nothing across gyms."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.notifications.services import _broadcast_unread, notification_mark_read
from fitnesscrm.asgi import application
from tests.conftest import ALPHA, BRAVO, login

pytestmark = pytest.mark.django_db


def _headers(host: str, session: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return headers


def _add_and_publish(gym, email: str) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        user = User.objects.get(email=email)
        Notification.objects.create(recipient=user, kind="test", title="Hello")
        _broadcast_unread(user.pk)  # what notify() does on commit


def test_the_bell_counts_live(client_a, gym_a):
    login(client_a, ALPHA.owner_email)
    session = client_a.cookies["sessionid"].value

    async def run():  # type: ignore[no-untyped-def]
        communicator = WebsocketCommunicator(
            application, "/ws/notifications/", headers=_headers(ALPHA.host, session)
        )
        connected, _ = await communicator.connect()
        assert connected
        first = await communicator.receive_json_from(timeout=5)
        await sync_to_async(_add_and_publish)(gym_a, ALPHA.owner_email)
        second = await communicator.receive_json_from(timeout=5)

        def read_all() -> None:
            with tenant_context(gym_a):
                owner = User.objects.get(email=ALPHA.owner_email)
                notification_mark_read(viewer=owner)
                _broadcast_unread(owner.pk)

        await sync_to_async(read_all)()
        third = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return first, second, third

    first, second, third = async_to_sync(run)()
    assert first == {"type": "unread", "unread": 0}
    assert second == {"type": "unread", "unread": 1}
    assert third == {"type": "unread", "unread": 0}


def test_another_gyms_notifications_never_reach_this_socket(client_a, gym_a, gym_b):
    login(client_a, ALPHA.owner_email)
    session = client_a.cookies["sessionid"].value

    async def run():  # type: ignore[no-untyped-def]
        communicator = WebsocketCommunicator(
            application, "/ws/notifications/", headers=_headers(ALPHA.host, session)
        )
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)
        # Gym B's owner may well have the same user id as gym A's.
        await sync_to_async(_add_and_publish)(gym_b, BRAVO.owner_email)
        nothing = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return nothing

    assert async_to_sync(run)() is True


def test_refused_without_a_session_or_on_another_gym(client_a):
    login(client_a, ALPHA.owner_email)
    session = client_a.cookies["sessionid"].value

    async def attempt(host: str, cookie: str | None):  # type: ignore[no-untyped-def]
        communicator = WebsocketCommunicator(
            application, "/ws/notifications/", headers=_headers(host, cookie)
        )
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    assert async_to_sync(attempt)(ALPHA.host, None) == (False, 4401)
    assert async_to_sync(attempt)(BRAVO.host, session) == (False, 4401)
