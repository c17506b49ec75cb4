"""Two `realtime` processes (the Procfile's uvicorn line) serving one database through one
Redis: real sockets, real session cookies, the gym's own Origin."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.messaging_realtime.realtime import login, open_socket, receive_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(coroutine: Any) -> Any:
    # A loop of its own: Playwright may keep one running in the test thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_each_process_authenticates_a_session_made_on_the_other(realtime_gyms, realtime_processes):
    """A session is shared state (database and Redis): one made by logging in on process 1
    opens a socket on process 2, and the reverse."""
    first, second = realtime_processes
    gym = realtime_gyms["a"]
    client_session = login(first.port, gym.host, gym.client_email, PASSWORD)
    trainer_session = login(second.port, gym.host, gym.trainer_email, PASSWORD)

    async def scenario() -> list[dict]:
        answers = []
        for port, session in ((second.port, client_session), (first.port, trainer_session)):
            async with await open_socket(port, gym.host, "/ws/whoami/", session) as ws:
                answers.append(await receive_json(ws, 10))
        return answers

    client_answer, trainer_answer = run(scenario())
    assert client_answer == {
        "gym": gym.gym.schema_name,
        "user": gym.client_email,
        "role": "client",
    }
    assert trainer_answer["user"] == gym.trainer_email
