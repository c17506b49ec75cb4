"""/ws/messages/ through the ASGI application (fitnesscrm.asgi) with channels-redis: real
session cookies, the gym's own Origin, events addressed by the services.

The test's transaction never commits, so the services' on-commit sends are run by hand at the
point the commit would have happened (`commit()`), in the thread that owns the connection."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from apps.messaging import services
from fitnesscrm.asgi import application
from tests.conftest import BRAVO, GymClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_layer(settings):  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL): the consumer is tested on channels-redis")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": "fitnesscrm-test-messaging"},
        }
    }
    # The test's data is in its one uncommitted transaction: the sockets' database work runs
    # in the thread that holds it (a server runs it in a pool: tests/messaging_realtime/).
    settings.MESSAGING_SOCKET_THREAD_SENSITIVE = True
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def session_cookie(user, gym) -> str:  # type: ignore[no-untyped-def]
    """A real session of `user` in `gym`, as its login would make."""
    browser = GymClient(gym.subdomain)
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def socket(host: str, session: str | None) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    return WebsocketCommunicator(application, "/ws/messages/", headers=headers)


def _commit() -> None:
    """Run the on-commit callbacks the test's transaction holds (what a commit would do)."""
    callbacks = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    for _savepoints, callback, _robust in callbacks:
        callback()


commit = database_sync_to_async(_commit)


async def opened(communicator: WebsocketCommunicator) -> dict:
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return hello


async def committed_then_received(communicator: WebsocketCommunicator) -> dict:
    """The next event, once the socket's own work (done on its own schedule) has committed."""
    for _attempt in range(100):
        if await database_sync_to_async(lambda: bool(connection.run_on_commit))():
            break
        await asyncio.sleep(0.05)
    await commit()
    return await communicator.receive_json_from(timeout=5)


async def nothing_for(communicator: WebsocketCommunicator) -> bool:
    return await communicator.receive_nothing(timeout=0.3)


def test_anonymous_is_refused(redis_layer, crm_a):
    async def run():  # type: ignore[no-untyped-def]
        communicator = socket(crm_a.host, None)
        connected, code = await communicator.connect()
        return connected, code

    assert async_to_sync(run)() == (False, 4401)


def test_a_gym_a_session_opens_nothing_on_gym_b(redis_layer, crm_a, crm_b):
    cookie = session_cookie(crm_a.desk, crm_a.gym)

    async def run():  # type: ignore[no-untyped-def]
        communicator = socket(BRAVO.host, cookie)
        connected, code = await communicator.connect()
        return connected, code

    assert async_to_sync(run)() == (False, 4401)


def test_a_message_posted_on_a_socket_reaches_the_client_and_the_inbox_only(
    redis_layer, crm_a, crm_b
):
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
    connection.set_schema_to_public()
    cookies = {
        name: session_cookie(crm_a.user(name), crm_a.gym)
        for name in ("desk", "cara", "tina", "owner")
    }
    other_gym = session_cookie(crm_b.desk, crm_b.gym)

    async def run():  # type: ignore[no-untyped-def]
        desk, cara, tina, owner = (
            socket(crm_a.host, cookies[n]) for n in ("desk", "cara", "tina", "owner")
        )
        bravo = socket(crm_b.host, other_gym)
        for communicator in (desk, cara, tina, owner, bravo):
            await opened(communicator)
        await desk.send_json_to(
            {"type": "send", "conversation": conversation.pk, "body": "Welcome!", "ref": "r1"}
        )
        sent = await desk.receive_json_from(timeout=5)
        assert (sent["type"], sent["ref"]) == ("sent", "r1")
        assert sent["message"]["body"] == "Welcome!"
        await commit()
        received = {}
        for name, communicator in (("cara", cara), ("owner", owner), ("desk", desk)):
            event = await communicator.receive_json_from(timeout=5)
            received[name] = event
        # Once each: the desk is in the inbox group and a participant, yet gets one copy.
        assert await nothing_for(desk)
        assert await nothing_for(tina)
        assert await nothing_for(bravo)

        # The client reads: a receipt for the inbox.
        await cara.send_json_to({"type": "read", "conversation": conversation.pk})
        receipt = await committed_then_received(owner)
        for communicator in (desk, tina, bravo, cara, owner):
            await communicator.disconnect()
        return sent, received, receipt

    sent, received, receipt = async_to_sync(run)()
    for event in received.values():
        assert event == {"type": "message.new", "message": sent["message"]}
    assert receipt["type"] == "read"
    assert receipt["reader"]["client"] == crm_a.cara.pk
    assert receipt["last_read_message_id"] == sent["message"]["id"]


def test_an_api_post_reaches_sockets(redis_layer, crm_a, api_as):
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_trainer(client=crm_a.cara, trainer=crm_a.tom.user)
    connection.set_schema_to_public()
    cara_cookie = session_cookie(crm_a.cara_user, crm_a.gym)
    tina_cookie = session_cookie(crm_a.tina.user, crm_a.gym)

    def post() -> int:
        response = api_as("tom").post(
            f"/api/v1/messaging/conversations/{conversation.pk}/messages/",
            {"body": "Leg day tomorrow"},
            format="json",
        )
        assert response.status_code == 201, response.content
        _commit()
        return response.json()["id"]

    async def run():  # type: ignore[no-untyped-def]
        cara, tina = socket(crm_a.host, cara_cookie), socket(crm_a.host, tina_cookie)
        await opened(cara)
        await opened(tina)
        message_id = await database_sync_to_async(post)()
        event = await cara.receive_json_from(timeout=5)
        quiet = await nothing_for(tina)
        await cara.disconnect()
        await tina.disconnect()
        return message_id, event, quiet

    message_id, event, quiet = async_to_sync(run)()
    assert (event["type"], event["message"]["id"]) == ("message.new", message_id)
    assert quiet


def test_what_a_socket_may_not_do(redis_layer, crm_a):
    with tenant_context(crm_a.gym):
        theirs = services.conversation_with_trainer(client=crm_a.ann, trainer=crm_a.tina.user)
    connection.set_schema_to_public()
    cookie = session_cookie(crm_a.tom.user, crm_a.gym)

    async def run():  # type: ignore[no-untyped-def]
        tom = socket(crm_a.host, cookie)
        await opened(tom)
        answers = []
        for payload in (
            {"type": "send", "conversation": theirs.pk, "body": "hi"},
            {"type": "read", "conversation": theirs.pk},
            {"type": "send", "conversation": "1", "body": "hi"},
            {"type": "send", "conversation": theirs.pk},
            {"type": "shout"},
            ["not", "an", "object"],
            {"type": "ping", "ref": "p"},
        ):
            await tom.send_json_to(payload)
            answers.append(await tom.receive_json_from(timeout=5))
        await tom.send_to(text_data="{not json")
        answers.append(await tom.receive_json_from(timeout=5))
        await tom.disconnect()
        return answers

    answers = async_to_sync(run)()
    assert [a["type"] for a in answers] == ["error"] * 6 + ["pong", "error"]
    assert [a.get("field") for a in answers[:5]] == [
        "conversation",
        "conversation",
        "conversation",
        "body",
        "type",
    ]
