"""Real-time messaging under load: --clients WebSocket clients spread over --processes
`realtime` processes (channels-redis), --rate messages a second for --seconds into
conversations; prints delivery latency p50/p99 and messages lost (targets: p99 under 100 ms,
0 lost).

What it does:

1. Data, in a gym of its own ("bench-messaging", dropped at the end: its schema takes every
   row along): --trainers trainers, and the rest of --clients clients with a portal login,
   each assigned to one trainer, and each client's conversation with their trainer
   (apps.messaging.services.conversation_with_trainer). Every one of them gets a session
   made directly (cached_db, as a login makes it).
2. The servers: --processes copies of the Procfile's `realtime` line (uvicorn serving
   fitnesscrm.asgi:application) bound to 127.0.0.1, with the production settings, the same
   DATABASE_URL and REDIS_URL (the channel layer is channels-redis; Redis db 9 unless
   REDIS_URL says otherwise).
3. The clients: one socket per person on /ws/messages/ with their session cookie and the gym's
   Origin, the sockets dealt round-robin over the processes so that a client and their
   trainer are mostly on different processes (a message crosses Redis from one process to the
   other). All from this one process (asyncio, uvloop).
4. The load, open loop: message i is sent at start + i / --rate whatever the answers, by the
   client or the trainer of a random conversation, as {"type": "send"} on the sender's socket
   (the consumer calls apps.messaging.services.post_message, which publishes on commit). The
   body carries the time it was sent (time.time_ns()); each recipient's socket subtracts it
   from the time the `message.new` event arrives. The recipient is the other person of the
   conversation; the sender's own socket gets the event too (counted apart, as "echo", with
   the `sent` acknowledgement). A --warmup second of the same load comes first, not counted.
   A probe socket pings every 100 ms (answered by the consumer without the database) to tell
   the server's event loop from its database work.
5. Lost: messages acknowledged by the server whose recipient had not received them --grace
   seconds after the last send; also counted: sends refused with an error, duplicates.
6. Where the time goes (in this process, against the same database and Redis): the consumer's
   database work for one message (the conversation check, post_message and the payload, one
   transaction, with the queries it runs), one channels-redis group_send, and the JSON of an
   event. With the CPU each server process used per message during the run.

Printed as well: the load average before and after (2 cores: whatever else runs on the
machine shows in every figure) and this client process's scheduling lag (how late sends went
out), which bounds what the client itself adds.

    .venv/bin/python bench/messaging.py                       # 1,000 sockets, 200/s for 30 s
    .venv/bin/python bench/messaging.py --clients 100 --rate 20 --seconds 5

Uses DATABASE_URL (or the embedded PostgreSQL) and REDIS_URL (default redis db 9);
BENCH_SETTINGS_MODULE runs servers and measurements on other settings than production's.
BENCH_QUERIES=1 also prints the SQL of one message of the consumer's work; BENCH_PROFILE=<file>
writes a cProfile of that work; --breakdown-only measures only that (no servers, no load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Production's settings, for the servers and for this process alike: the servers check the
# sessions made here (one secret), and the measurements apart run with the same connection
# pool the servers use.
SERVER_ENV = {
    # BENCH_SETTINGS_MODULE: another settings module to compare (a channel layer, say).
    "DJANGO_SETTINGS_MODULE": os.environ.get(
        "BENCH_SETTINGS_MODULE", "fitnesscrm.settings.production"
    ),
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
    # The bench's gym is made and dropped in each run: a fresh key reads all it writes.
    "FIELD_ENCRYPTION_KEYS": _fernet_key(),
    "BASE_DOMAIN": "localhost",
    "SECURE_SSL_REDIRECT": "false",
    "REDIS_URL": os.environ["REDIS_URL"],
    "LOG_LEVEL": "WARNING",
}
os.environ.update(SERVER_ENV)

import django

django.setup()

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from websockets.exceptions import ConnectionClosed

from apps.accounts.models import Role, User
from apps.crm.models import Assignment, Client, Trainer
from apps.messaging import realtime as messaging_realtime
from apps.messaging import selectors as messaging_selectors
from apps.messaging import services as messaging
from apps.messaging.payloads import message_data
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from tests.messaging_realtime.realtime import (
    RealtimeProcess,
    database_url,
    open_socket,
    start_processes,
)

SUBDOMAIN = "bench-messaging"
HOST = f"{SUBDOMAIN}.localhost"
OWNER = "owner@bench-messaging.example"
PASSWORD = "bench mark pass phrase"
PATH = "/ws/messages/"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- Data -------------------------------------------------------------------------------------


@dataclass
class Person:
    user_id: int
    role: str
    session: str
    conversations: list[int] = field(default_factory=list)


@dataclass
class Dataset:
    gym: Gym
    people: list[Person]
    # conversation id -> (client's index in people, trainer's index)
    conversations: dict[int, tuple[int, int]]


def cleanup() -> None:
    connection.set_schema_to_public()
    for gym in Gym.objects.filter(subdomain=SUBDOMAIN):
        gym.delete(force_drop=True)


def _session(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "apps.accounts.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key  # type: ignore[return-value]


def seed(gym: Gym, *, people: int, trainers: int) -> Dataset:
    """Trainers and clients with logins (bulk), a conversation per client with their trainer
    (through the service), and a session for each."""
    clients = people - trainers
    password = make_password(None)
    with tenant_context(gym):
        owner = User.objects.get(email=OWNER)
        trainer_users = User.objects.bulk_create(
            User(
                email=f"trainer{n}@bench-messaging.example",
                first_name="Trainer",
                last_name=str(n),
                role=Role.TRAINER,
                password=password,
            )
            for n in range(trainers)
        )
        trainer_rows = Trainer.objects.bulk_create(Trainer(user=user) for user in trainer_users)
        client_users = User.objects.bulk_create(
            User(
                email=f"client{n}@bench-messaging.example",
                first_name="Client",
                last_name=str(n),
                role=Role.CLIENT,
                password=password,
            )
            for n in range(clients)
        )
        client_rows = Client.objects.bulk_create(
            Client(user=user, first_name="Client", last_name=str(n), email=user.email)
            for n, user in enumerate(client_users)
        )
        Assignment.objects.bulk_create(
            Assignment(client=client, trainer=trainer_rows[n % trainers], is_primary=True)
            for n, client in enumerate(client_rows)
        )
        persons = [Person(user.pk, Role.TRAINER, _session(user)) for user in trainer_users]
        persons += [Person(user.pk, Role.CLIENT, _session(user)) for user in client_users]
        conversations: dict[int, tuple[int, int]] = {}
        for n, client in enumerate(client_rows):
            trainer_index = n % trainers
            with transaction.atomic():
                conversation = messaging.conversation_with_trainer(
                    client=client, trainer=trainer_users[trainer_index], actor=owner
                )
            client_index = trainers + n
            conversations[conversation.pk] = (client_index, trainer_index)
            persons[client_index].conversations.append(conversation.pk)
            persons[trainer_index].conversations.append(conversation.pk)
    connection.set_schema_to_public()
    return Dataset(gym=gym, people=persons, conversations=conversations)


# --- Load -------------------------------------------------------------------------------------


@dataclass
class Figures:
    sent: dict[int, tuple[int, int]] = field(default_factory=dict)  # seq -> (sender, recipient)
    send_ns: dict[int, int] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)  # seq -> ms to the `sent` ack
    delivered: dict[int, float] = field(default_factory=dict)  # seq -> ms at the recipient
    echoes: list[float] = field(default_factory=list)  # ms at the sender's own socket
    duplicates: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0
    pongs: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)  # ms the client sent late
    measuring: bool = False
    first_counted: int = 0
    # Server CPU seconds per process and wall seconds over the measured part.
    cpu: list[float] = field(default_factory=list)
    wall: float = 0.0
    idle_cpu: list[float] = field(default_factory=list)  # CPU seconds a second, no messages


def _stamp(body: str) -> tuple[int, int] | None:
    parts = body.split()
    if len(parts) != 3 or parts[0] != "bench":
        return None
    return int(parts[1]), int(parts[2])


async def _listen(index: int, socket: Any, figures: Figures) -> None:
    """Every event a socket receives, timed the moment it is parsed."""
    try:
        async for raw in socket:
            now = time.time_ns()
            event = json.loads(raw)
            kind = event.get("type")
            if kind == "message.new":
                stamped = _stamp(event["message"]["body"])
                if stamped is None:
                    continue
                seq, sent_ns = stamped
                if seq < figures.first_counted:
                    continue
                ms = (now - sent_ns) / 1e6
                sender, recipient = figures.sent.get(seq, (-1, -1))
                if index == recipient:
                    if seq in figures.delivered:
                        figures.duplicates += 1
                    figures.delivered[seq] = ms
                elif index == sender:
                    figures.echoes.append(ms)
                else:
                    figures.unexpected += 1
            elif kind == "sent":
                seq = int(event["ref"])
                if seq >= figures.first_counted:
                    figures.acked[seq] = (now - figures.send_ns[seq]) / 1e6
            elif kind == "error":
                figures.errors[f"{event.get('field')}: {event.get('detail')}"] += 1
    except Exception as exc:  # a socket that dies is reported, not raised
        figures.errors[f"socket closed: {type(exc).__name__}"] += 1


async def _probe(socket: Any, figures: Figures, stop: asyncio.Event) -> None:
    """Ping round trips through one process while the load runs."""
    while not stop.is_set():
        started = time.perf_counter()
        await socket.send(json.dumps({"type": "ping", "ref": "probe"}))
        while True:
            event = json.loads(await socket.recv())
            if event.get("type") == "pong":
                break
        if figures.measuring:
            figures.pongs.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.1)


async def load(
    data: Dataset, processes: list[RealtimeProcess], args: argparse.Namespace
) -> Figures:
    figures = Figures()
    ports = [process.port for process in processes]
    opening = asyncio.Semaphore(50)
    sockets: list[Any] = [None] * len(data.people)

    async def open_one(index: int) -> None:
        person = data.people[index]
        async with opening:
            # No keepalive pings from the client (browsers send none); the server's own
            # pings (uvicorn's --ws-ping-interval) are answered as a browser would.
            socket = await open_socket(
                ports[index % len(ports)],
                HOST,
                PATH,
                person.session,
                max_queue=None,
                ping_interval=None,
            )
            hello = json.loads(await asyncio.wait_for(socket.recv(), 60))
            assert hello["type"] == "hello", hello
            sockets[index] = socket

    began = time.perf_counter()
    await asyncio.gather(*(open_one(index) for index in range(len(data.people))))
    print(
        f"sockets: {len(sockets)} open over {len(ports)} processes in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    listeners = [
        asyncio.create_task(_listen(index, socket, figures)) for index, socket in enumerate(sockets)
    ]
    probe_socket = await open_socket(ports[0], HOST, PATH, data.people[0].session)
    await probe_socket.recv()  # hello
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(probe_socket, figures, stop))

    # What 1,000 quiet sockets cost the servers (keepalive pings, the layer's receive loop),
    # so the CPU of a message can be told apart from it.
    idle_before = [cpu_seconds(process.pid) for process in processes]
    await asyncio.sleep(3)
    figures.idle_cpu = [
        (cpu_seconds(process.pid) - before) / 3
        for process, before in zip(processes, idle_before, strict=True)
    ]

    rng = random.Random(19)
    conversation_ids = list(data.conversations)
    warmup = int(args.rate * args.warmup)
    total = warmup + int(args.rate * args.seconds)
    figures.first_counted = warmup
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    for seq in range(total):
        target = start + seq / args.rate
        delay = target - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if seq == warmup:
            figures.measuring = True
            cpu_before = [cpu_seconds(process.pid) for process in processes]
            measured_from = time.perf_counter()
        conversation = rng.choice(conversation_ids)
        client_index, trainer_index = data.conversations[conversation]
        sender, recipient = (
            (client_index, trainer_index) if rng.random() < 0.5 else (trainer_index, client_index)
        )
        figures.sent[seq] = (sender, recipient)
        sent_ns = time.time_ns()
        figures.send_ns[seq] = sent_ns
        if figures.measuring:
            figures.lag.append((loop.time() - target) * 1000)
        frame = {
            "type": "send",
            "conversation": conversation,
            "body": f"bench {seq} {sent_ns}",
            "ref": str(seq),
        }
        try:
            await sockets[sender].send(json.dumps(frame))
        except ConnectionClosed as closed:
            figures.errors[f"send on a closed socket: {closed}"] += 1
    sending_ended = time.monotonic()
    counted = range(warmup, total)
    while time.monotonic() - sending_ended < args.grace:
        if all(seq in figures.delivered for seq in counted) and all(
            seq in figures.acked for seq in counted
        ):
            break
        await asyncio.sleep(0.1)
    figures.measuring = False
    figures.wall = time.perf_counter() - measured_from
    figures.cpu = [
        cpu_seconds(process.pid) - before
        for process, before in zip(processes, cpu_before, strict=True)
    ]
    stop.set()
    await probe
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    await asyncio.gather(
        *(socket.close() for socket in [*sockets, probe_socket]), return_exceptions=True
    )
    return figures


# --- Where the time goes ----------------------------------------------------------------------


def breakdown(data: Dataset, rounds: int = 200) -> None:
    """The consumer's work for one message, measured apart in this process against the same
    database and Redis, the way the consumer runs it: database_sync_to_async from an event
    loop, the conversation check, then post_message, whose on-commit publish sends the event
    to the two people's groups (channels-redis), then the payload of the `sent` answer."""
    gym = data.gym
    conversation_id = next(iter(data.conversations))
    client_index, _ = data.conversations[conversation_id]
    with tenant_context(gym):
        user = User.objects.get(pk=data.people[client_index].user_id)
    connection.set_schema_to_public()
    captured_sql: list[dict[str, Any]] = []
    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()

    def work(n: int) -> tuple[dict[str, Any], int]:
        # As MessagesConsumer._send runs it in its database thread (profiled there: cProfile
        # follows one thread).
        if profile is not None:
            profile.enable()
        with tenant_context(gym), CaptureQueriesContext(connection) as captured:
            conversation = messaging_selectors.conversation_get(viewer=user, pk=conversation_id)
            message = messaging.post_message(
                conversation=conversation, sender_user=user, body=f"breakdown {n}"
            )
            payload = message_data(message)
        if profile is not None:
            profile.disable()
        captured_sql[:] = captured.captured_queries
        sql = [q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        return payload, len(sql)

    async def consumer_rounds(publish: bool) -> tuple[list[float], list[float], list[int]]:
        original = messaging_realtime._send
        if not publish:
            messaging_realtime._send = lambda groups, payload: None
        wall, cpu, queries = [], [], []
        try:
            for n in range(rounds):
                started, cpu_started = time.perf_counter(), time.process_time()
                _, count = await database_sync_to_async(work, thread_sensitive=False)(n)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                queries.append(count)
        finally:
            messaging_realtime._send = original
        return wall, cpu, queries

    layer = get_channel_layer()
    sends: list[float] = []

    async def group_sends(payload: dict[str, Any]) -> None:
        group = f"{gym.schema_name}.bench.breakdown"
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        for _ in range(rounds):
            started = time.perf_counter()
            await layer.group_send(
                group, messaging_realtime.event({"type": "message.new", "message": payload})
            )
            sends.append((time.perf_counter() - started) * 1000)
            await layer.receive(channel)
        await layer.group_discard(group, channel)

    async def measure() -> tuple[Any, Any]:
        without = await consumer_rounds(publish=False)
        with_publish = await consumer_rounds(publish=True)
        payload, _ = await database_sync_to_async(work, thread_sensitive=False)(rounds)
        await group_sends(payload)
        return without, with_publish

    without, with_publish = asyncio.run(measure())
    if os.environ.get("BENCH_QUERIES"):
        for query in captured_sql:
            print(f"    {query['time']} s  {query['sql'][:150]}")
    if profile is not None:
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    for label, (wall, cpu, queries) in (
        ("database work alone", without),
        ("database work + publish", with_publish),
    ):
        print(
            f"  consumer's {label}, per message: p50 {statistics.median(wall):.1f} ms, "
            f"p99 {percentile(wall, 99):.1f} ms, {statistics.median(cpu):.1f} ms of CPU "
            f"(this process), {statistics.median(queries):.0f} queries"
        )
    print(
        f"  one channels-redis group_send: p50 {statistics.median(sends):.2f} ms, "
        f"p99 {percentile(sends, 99):.2f} ms (a message makes two: one per person's group)"
    )
    payload, _ = work(rounds + 1)
    event = {"type": "message.new", "message": payload}
    started = time.perf_counter()
    for _ in range(10_000):
        json.loads(json.dumps(event))
    per_event = (time.perf_counter() - started) / 10_000 * 1000
    print(f"  JSON of one event, out and back: {per_event:.3f} ms")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- Main -------------------------------------------------------------------------------------


def report(figures: Figures, args: argparse.Namespace) -> bool:
    counted = [seq for seq in figures.sent if seq >= figures.first_counted]
    acked = [seq for seq in counted if seq in figures.acked]
    delivered = [figures.delivered[seq] for seq in counted if seq in figures.delivered]
    lost = [seq for seq in acked if seq not in figures.delivered]
    refused = len(counted) - len(acked)
    ack_ms = [figures.acked[seq] for seq in acked]
    p50, p99 = (
        statistics.median(delivered) if delivered else float("nan"),
        percentile(delivered, 99),
    )
    print(
        f"messages: {len(counted)} sent at {args.rate}/s for {args.seconds} s "
        f"(+{args.warmup} s warm-up); acknowledged {len(acked)}, delivered {len(delivered)}, "
        f"lost {len(lost)}, not acknowledged {refused}, duplicates {figures.duplicates}, "
        f"to a wrong socket {figures.unexpected}"
    )
    if figures.errors:
        print(f"  errors: {dict(figures.errors.most_common(5))}")
    print(
        f"delivery to the recipient: p50 {p50:.1f} ms  p99 {p99:.1f} ms  "
        f"max {max(delivered, default=float('nan')):.1f} ms"
    )
    print(
        f"sender's `sent` ack: p50 {statistics.median(ack_ms) if ack_ms else float('nan'):.1f} ms"
        f"  p99 {percentile(ack_ms, 99):.1f} ms;  echo to the sender: p50 "
        f"{statistics.median(figures.echoes) if figures.echoes else float('nan'):.1f} ms"
    )
    print(
        f"ping through process 1 under the load: p50 "
        f"{statistics.median(figures.pongs) if figures.pongs else float('nan'):.1f} ms  "
        f"p99 {percentile(figures.pongs, 99):.1f} ms"
    )
    print(
        f"client scheduling lag: p50 {statistics.median(figures.lag):.1f} ms  "
        f"p99 {percentile(figures.lag, 99):.1f} ms"
    )
    print(
        "server CPU over the measured part: "
        + ", ".join(
            f"process {n} {seconds:.1f} s ({seconds / figures.wall:.0%} of a core)"
            for n, seconds in enumerate(figures.cpu, start=1)
        )
        + f"; {sum(figures.cpu) / max(1, len(acked)) * 1000:.1f} ms of server CPU a message"
    )
    above_idle = sum(figures.cpu) - sum(figures.idle_cpu) * figures.wall
    print(
        f"  idle sockets alone: {sum(figures.idle_cpu):.0%} of a core; above that, "
        f"{above_idle / max(1, len(acked)) * 1000:.1f} ms of server CPU a message"
    )
    met_latency = p99 < 100
    met_lost = not lost and not refused and not figures.duplicates and not figures.unexpected
    print(
        f"targets: p99 under 100 ms: {'met' if met_latency else 'NOT met'}; "
        f"0 lost: {'met' if met_lost else 'NOT met'}"
    )
    return met_latency and met_lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000, help="sockets in all")
    parser.add_argument("--trainers", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200, help="messages a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--grace", type=float, default=10)
    parser.add_argument(
        "--breakdown-only", action="store_true", help="only the measurements apart, no servers"
    )
    args = parser.parse_args()
    if not settings.REDIS_URL:
        raise SystemExit("REDIS_URL is needed: the processes meet through channels-redis")

    call_command("migrate", interactive=False, verbosity=0)
    cleanup()
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)", flush=True)
    began = time.perf_counter()
    gym = gym_create(
        name="Bench messaging", subdomain=SUBDOMAIN, owner_email=OWNER, owner_password=PASSWORD
    )
    processes: list[RealtimeProcess] = []
    ok = False
    try:
        data = seed(gym, people=args.clients, trainers=args.trainers)
        print(
            f"data: {args.trainers} trainers, {args.clients - args.trainers} clients, "
            f"{len(data.conversations)} conversations, sessions: "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        if args.breakdown_only:
            print("where the time goes (measured apart, this process):")
            breakdown(data)
            return
        env = {**SERVER_ENV, "DATABASE_URL": database_url(connection.settings_dict)}
        logs = Path(tempfile.mkdtemp(prefix="bench-messaging-"))
        processes = start_processes(args.processes, env=env, host=HOST, logs=logs)
        print(f"realtime: {processes[0].command} x {len(processes)} (logs in {logs})", flush=True)
        try:
            import uvloop

            uvloop.install()
        except ImportError:  # pragma: no cover - uvicorn[standard] brings it
            pass
        figures = asyncio.run(load(data, processes, args))
        print(f"load average after: {load_average()}", flush=True)
        ok = report(figures, args)
        print("where the time goes (measured apart, this process):")
        breakdown(data)
    finally:
        for process in processes:
            process.stop()
        connection.close()
        cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
