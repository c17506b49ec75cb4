"""Issue 19's proof that messaging is real time across the realtime processes: a client on
process 1 and their trainer on process 2 exchange messages over /ws/messages/, which can only
meet through channels-redis; and no socket of another gym hears any of it, although that gym's
users have the same ids (every gym's users table counts from 1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from apps.accounts.models import User
from apps.crm.models import Client
from apps.messaging import services as messaging
from tests.conftest import PASSWORD
from tests.messaging_realtime.conftest import RealtimeGym
from tests.messaging_realtime.realtime import login, open_socket, receive_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PATH = "/ws/messages/"
# Long enough for a busy machine; a message that made it arrives in milliseconds.
WAIT = 15


def run(coroutine: Any) -> Any:
    # A loop of its own: Playwright may keep one running in the test thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _conversations(gym: RealtimeGym) -> tuple[int, int]:
    """(the client's conversation with their trainer, the client's with the gym)."""
    with tenant_context(gym.gym):
        client = Client.objects.get(pk=gym.client_id)
        trainer = User.objects.get(email=gym.trainer_email)
        with_trainer = messaging.conversation_with_trainer(client=client, trainer=trainer)
        with_gym = messaging.conversation_with_gym(client=client)
    connection.set_schema_to_public()
    return with_trainer.pk, with_gym.pk


@pytest.fixture(scope="module")
def conversations(realtime_gyms, django_db_blocker) -> Iterator[dict[str, tuple[int, int]]]:
    with django_db_blocker.unblock():
        yield {key: _conversations(gym) for key, gym in realtime_gyms.items()}


async def _next_event(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of `kind` on `socket` (typing, read receipts... are skipped)."""
    while True:
        event = await receive_json(socket, WAIT)
        if event.get("type") == kind:
            return event


async def _drain_until(socket: ClientConnection, body: str) -> list[dict[str, Any]]:
    """Every event `socket` receives up to the new message with `body` (included)."""
    seen = []
    while True:
        event = await receive_json(socket, WAIT)
        seen.append(event)
        if event.get("type") == "message.new" and event["message"]["body"] == body:
            return seen


async def _send(socket: ClientConnection, conversation: int, body: str, ref: str) -> None:
    await socket.send(
        json.dumps({"type": "send", "conversation": conversation, "body": body, "ref": ref})
    )


def test_a_client_and_their_trainer_on_two_processes_exchange_messages(
    realtime_gyms, realtime_processes, conversations
):
    first, second = realtime_processes
    gym_a, gym_b = realtime_gyms["a"], realtime_gyms["b"]
    with_trainer, with_gym = conversations["a"]
    b_with_trainer, _ = conversations["b"]
    sessions = {
        "client": login(first.port, gym_a.host, gym_a.client_email, PASSWORD),
        "trainer": login(second.port, gym_a.host, gym_a.trainer_email, PASSWORD),
        "owner": login(second.port, gym_a.host, gym_a.owner_email, PASSWORD),
        "b_trainer": login(first.port, gym_b.host, gym_b.trainer_email, PASSWORD),
        "b_owner": login(second.port, gym_b.host, gym_b.owner_email, PASSWORD),
    }

    async def scenario() -> dict[str, Any]:
        client = await open_socket(first.port, gym_a.host, PATH, sessions["client"])
        trainer = await open_socket(second.port, gym_a.host, PATH, sessions["trainer"])
        owner = await open_socket(second.port, gym_a.host, PATH, sessions["owner"])
        # Gym B's trainer and owner, one on each process.
        b_trainer = await open_socket(first.port, gym_b.host, PATH, sessions["b_trainer"])
        b_owner = await open_socket(second.port, gym_b.host, PATH, sessions["b_owner"])
        sockets = [client, trainer, owner, b_trainer, b_owner]
        try:
            hellos = [await _next_event(socket, "hello") for socket in sockets]
            result: dict[str, Any] = {"hellos": hellos}

            await _send(client, with_trainer, "Can we move Thursday to 7?", "c1")
            result["client_ack"] = await _next_event(client, "sent")
            result["at_trainer"] = await _next_event(trainer, "message.new")
            await _send(trainer, with_trainer, "Yes, 7 works.", "t1")
            result["trainer_ack"] = await _next_event(trainer, "sent")
            result["at_client"] = await _next_event(client, "message.new")
            # The client's own message comes back to their socket too; skip it.
            while result["at_client"]["message"]["body"] != "Yes, 7 works.":
                result["at_client"] = await _next_event(client, "message.new")
            # A message to the gym reaches the owner (the gym's inbox) on the other process.
            await _send(client, with_gym, "Is the sauna open on Sunday?", "c2")
            result["at_owner"] = await _next_event(owner, "message.new")

            # Gym B's sockets: a message in gym B itself closes the window. Each socket's
            # events are queued in order in Redis, so anything gym A's messages had sent
            # them would be in front of it.
            b_client_session = login(first.port, gym_b.host, gym_b.client_email, PASSWORD)
            b_client = await open_socket(first.port, gym_b.host, PATH, b_client_session)
            sockets.append(b_client)
            await _next_event(b_client, "hello")
            await _send(b_client, b_with_trainer, "Gym B only", "b1")
            result["b_trainer_saw"] = await _drain_until(b_trainer, "Gym B only")
            await _send(b_client, conversations["b"][1], "Gym B inbox only", "b2")
            result["b_owner_saw"] = await _drain_until(b_owner, "Gym B inbox only")
            return result
        finally:
            for socket in sockets:
                await socket.close()

    result = run(scenario())

    assert [hello["role"] for hello in result["hellos"]] == [
        "client",
        "trainer",
        "owner",
        "trainer",
        "owner",
    ]
    # The point of the group names carrying the schema: gym B's trainer has gym A's
    # trainer's user id.
    assert result["hellos"][3]["user"] == result["hellos"][1]["user"]
    assert result["hellos"][4]["user"] == result["hellos"][2]["user"]

    sent = result["client_ack"]["message"]
    assert result["client_ack"]["ref"] == "c1"
    assert result["at_trainer"]["message"] == sent
    assert sent["body"] == "Can we move Thursday to 7?"
    assert sent["conversation"] == with_trainer
    assert result["at_client"]["message"] == result["trainer_ack"]["message"]
    assert result["at_owner"]["message"]["body"] == "Is the sauna open on Sunday?"
    assert result["at_owner"]["message"]["conversation"] == with_gym

    gym_a_bodies = {
        "Can we move Thursday to 7?",
        "Yes, 7 works.",
        "Is the sauna open on Sunday?",
    }
    for key in ("b_trainer_saw", "b_owner_saw"):
        heard = [
            event["message"]["body"] for event in result[key] if event.get("type") == "message.new"
        ]
        assert not gym_a_bodies & set(heard), (key, heard)
        assert heard[-1].startswith("Gym B")
        # Nothing else of gym A either (typing, read receipts): every event is about gym B's
        # own conversations.
        for event in result[key]:
            conversation = event.get("conversation") or event.get("message", {}).get("conversation")
            assert conversation in conversations["b"], (key, event)


def test_a_gym_a_session_opens_no_socket_on_gym_b_through_a_real_server(
    realtime_gyms, realtime_processes
):
    first, _ = realtime_processes
    gym_a, gym_b = realtime_gyms["a"], realtime_gyms["b"]
    session = login(first.port, gym_a.host, gym_a.trainer_email, PASSWORD)

    async def attempt() -> int:
        try:
            socket = await open_socket(first.port, gym_b.host, PATH, session)
        except InvalidStatus as refused:
            return refused.response.status_code
        await socket.close()
        return 101

    # The consumer closes an anonymous socket before accepting it: the handshake is refused.
    assert run(attempt()) == 403


def test_sockets_that_heard_nothing_for_a_while_still_receive(
    realtime_gyms, realtime_processes, conversations
):
    """channels-redis waits for events with a blocking BZPOPMIN of 5 seconds; redis-py 8
    reads every reply with a 5-second socket timeout by default, which would tear down every
    consumer of a process that had heard nothing for 5 seconds (settings/base.py)."""
    first, second = realtime_processes
    gym = realtime_gyms["b"]
    with_trainer, _ = conversations["b"]
    client_session = login(first.port, gym.host, gym.client_email, PASSWORD)
    trainer_session = login(second.port, gym.host, gym.trainer_email, PASSWORD)

    async def scenario() -> dict[str, Any]:
        client = await open_socket(first.port, gym.host, PATH, client_session)
        trainer = await open_socket(second.port, gym.host, PATH, trainer_session)
        try:
            await _next_event(client, "hello")
            await _next_event(trainer, "hello")
            await asyncio.sleep(7)
            await _send(client, with_trainer, "Still there?", "late")
            return await _next_event(trainer, "message.new")
        finally:
            await client.close()
            await trainer.close()

    assert run(scenario())["message"]["body"] == "Still there?"
