"""Real `realtime` processes on loopback, and real clients for them: shared by the two-process
tests here and bench/messaging.py.

A process is started from the Procfile's `realtime` line as written (uvicorn serving
fitnesscrm.asgi:application), bound to 127.0.0.1 on a port of its own, with the environment
the caller gives it (the database and Redis db to use). People log in through the real login
form on a process, so their session is made as a browser's would be; sockets are opened with
the `websockets` library, carrying that session cookie and the gym's own Origin.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def procfile_command(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no {process} line in the Procfile")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL naming the database of `settings_dict` (a test run's: pytest-django's
    test database, which the processes must use rather than the configured one)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


class RealtimeProcess:
    """One `realtime` process (the Procfile's line, on 127.0.0.1:`port`)."""

    def __init__(self, *, port: int, env: Mapping[str, str], log: Path) -> None:
        self.port = port
        self.log = log
        # The Procfile binds every interface; here only loopback.
        command = procfile_command("realtime").replace("0.0.0.0", "127.0.0.1")  # noqa: S104
        self.command = command
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "REALTIME_PORT": str(port),
                "PATH": f"{BIN}:{os.environ['PATH']}",
                "PYTHONUNBUFFERED": "1",
            },
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, host: str, seconds: float = 90) -> None:
        """Until /health/live answers on `host` (Django loaded, the gym's host served)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"realtime process exited ({self.log}):\n{self.log_text()}")
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{self.port}/health/live",
                    headers={"Host": host},
                    timeout=2,
                )
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"realtime process not serving after {seconds} s:\n{self.log_text()}")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def start_processes(
    count: int, *, env: Mapping[str, str], host: str, logs: Path
) -> list[RealtimeProcess]:
    """`count` realtime processes started together (they load Django in parallel), each
    serving before this returns."""
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        RealtimeProcess(port=free_port(), env=env, log=logs / f"realtime-{n}.log")
        for n in range(1, count + 1)
    ]
    try:
        for process in processes:
            process.wait_ready(host)
    except BaseException:
        for process in processes:
            process.stop()
        raise
    return processes


def login(port: int, host: str, email: str, password: str) -> str:
    """Log in through the real allauth form on `host` served by the process on `port`, as a
    browser would (CSRF cookie and token); returns the session cookie's value."""
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{host}:{port}"}, timeout=30
    ) as http:
        page = http.get("/accounts/login/")
        page.raise_for_status()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError("no CSRF token on the login page")
        response = http.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": match.group(1), "login": email, "password": password},
        )
        session = http.cookies.get("sessionid")
        if response.status_code != 302 or not session:
            raise RuntimeError(f"login of {email} on {host} failed: {response.status_code}")
        return session


async def open_socket(
    port: int, host: str, path: str, session: str, **options: Any
) -> ClientConnection:
    """A WebSocket to `path` on the gym's `host`, served by the process on `port`: the gym's
    Host and Origin (scheme, host and port, as the browser sends them) and its session
    cookie."""
    return await connect(
        f"ws://{host}:{port}{path}",
        host="127.0.0.1",
        port=port,
        origin=f"http://{host}:{port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=30,
        **options,
    )


async def receive_json(socket: ClientConnection, timeout: float) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))
