"""A benchmark of real use: many gyms, many users, a mix of pages, API reads and writes.

What it does, in one run:

1. Data (fast, idempotent: a second run reuses it). 50 gyms of 2,000 clients and one of 10,000
   (flags below), each created with apps.tenants.services.gym_create (a template clone); in each
   gym, inside its tenant_context, staff (owner, manager, front desk, trainers), clients,
   assignments, notes and leads are written with bulk_create. In the big gym and the first two
   others ("rich" gyms) the demo seeders add the real-looking rest: the timetable with bookings
   and 1:1 sessions (apps.scheduling.demo.seed_schedule), plans and logged workouts
   (apps.training.demo.seed_training) and body measurements (seed_measurements); clients of
   those gyms with a plan get a portal login. Seeding time is printed.
2. The production process types: the Procfile's `release` line (migrate, collectstatic) and its
   `web` line, read from the Procfile at run time and run as written (bound to 127.0.0.1), with
   DJANGO_SETTINGS_MODULE=fitnesscrm.settings.production, a random DJANGO_SECRET_KEY, the
   dataset's Fernet key, DATABASE_URL (the fitnesscrm_bench database only) and REDIS_URL (Redis
   db 9 only). Production's throttle rates are kept: the load is spread over enough users that
   none reaches them. No worker or beat (no measured request queues a task), and no realtime
   process (no WebSockets in the mix).
3. Users log in by sessions made directly (cached_db, as a login makes them); writes send the
   CSRF cookie and header. The request types:
   staff pages   dashboard, client list with a search, client profile, calendar week;
   portal pages  schedule, workouts, progress;
   API reads     client list, this week's classes, the client's workouts;
   API writes    book a class, cancel it, log a set, add a note.
   Staff pages and the client list API go to every gym; calendar, portal and writes to the rich
   gyms (where classes, plans and portal logins exist).
4. Queries per request type, counted once before the load (django.test.Client with
   CaptureQueriesContext): the same request in a 2,000-client gym and in the big gym, and for
   paginated API lists at page_size 10 and 100. Writes are counted as the load runs them (book
   then cancel, log a set, add a note) and undone.
5. The load: wrk (Debian package, installed when missing) at concurrency 16 on 2 threads with
   bench/mixed_load.lua, which rotates through the prepared requests and times every response
   itself, so one mixed run gives p50/p95/p99, errors and requests per second per request type
   and overall. A short warm-up runs first. Then /health/live on a gym host (a bare Django view)
   alone, at the same concurrency, in the same run.
   Why wrk and not Python threads: the machine has 2 cores; a Python client with keep-alive
   connections would need most of a core for 16 connections and take it from the server, which
   would make every figure worse than the server's own. wrk's Lua adds a few microseconds per
   request. Latency is closed-loop (each connection sends its next request when the last one is
   answered) and the table gives it per response as measured; wrk's own overall percentiles,
   printed next to it, add samples for coordinated omission (its stats_correct), so run higher.
   Between runs the writes of the load are undone (bookings cancelled through the service and
   removed, sets and notes made by the load deleted), so every run starts from the same data.

Printed: a table per request type (requests, errors, RPS, p50, p95, p99 in ms, "alone": the ms
one such request takes with nothing else running, and queries), the overall line, the bare
view, and the targets with met / not met: 0 errors, overall p95 under 100 ms,
queries of every request type the same at both sizes. Also printed: the CPU time a request
took in the web processes and in the bench database's PostgreSQL backends (from /proc, over
the run), how many cores each kept busy, and the load average before the run: other work on
the machine shows in every figure, and the web processes can only use the cores it leaves.
From the CPU a request, a bound that other work cannot move: with 16 requests in flight on 2
cores, the mean latency is at least 16 x CPU a request / 2.

    .venv/bin/python bench/mixed_load.py                   # 50 x 2,000 + 10,000 clients, 30 s
    .venv/bin/python bench/mixed_load.py --gyms 2 --clients 200 --big-clients 1000 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "fitnesscrm_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
REDIS_URL = "redis://127.0.0.1:6379/9"
KEY_COMMENT = "mixed_load field key: "
LUA = Path(__file__).resolve().parent / "mixed_load.lua"


def _dataset_key() -> str:
    """The Fernet key of the bench dataset's encrypted fields. Made fresh with the database and
    kept as its comment, so a second run can read the notes the first one wrote."""
    import psycopg
    from cryptography.fernet import Fernet

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        comment = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [BENCH_DB],
        ).fetchone()[0]
        if comment and comment.startswith(KEY_COMMENT):
            return comment.removeprefix(KEY_COMMENT)
        key = Fernet.generate_key().decode()  # URL-safe base64: nothing to escape
        conn.execute(f"COMMENT ON DATABASE \"{BENCH_DB}\" IS '{KEY_COMMENT}{key}'")
        return key


# Production's settings and the variables it needs, for this process and the server alike
# (sessions made here are signed with the same secret the server checks).
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "fitnesscrm.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
    "FIELD_ENCRYPTION_KEYS": _dataset_key(),
    "BASE_DOMAIN": "localhost",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    # Static files and uploads of the bench, away from the development ones.
    "DATA_DIR": str(ROOT / ".data" / "bench"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(SERVER_ENV)
sys.path.insert(0, str(ROOT))

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.crm.demo import FIRST_NAMES, GOALS, LAST_NAMES, SOURCES, STATUS_WEIGHTS, TAGS, _ascii
from apps.crm.models import Assignment, Client, ClientStatus, Lead, Note, NoteKind, Trainer
from apps.scheduling.classes import services as class_services
from apps.scheduling.demo import seed_schedule
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    SPOT_STATUSES,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
)
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from apps.training.demo import seed_measurements, seed_training
from apps.training.models import Exercise, WorkoutPlan
from apps.workouts.models import SetLog, WorkoutLog

PREFIX = "load"
RICH_GYMS = 3  # the big gym and the first two others
PORTAL_CLIENTS = 40  # portal logins per rich gym
BENCH_WORKOUT = "mixed_load writes"  # notes of the open workout each portal client logs into
CONCURRENCY_THREADS = 2
# Share of each request type in the mix (per 100 requests).
MIX = {
    "page: dashboard": 8,
    "page: client list search": 10,
    "page: client profile": 12,
    "page: calendar week": 8,
    "portal: schedule": 10,
    "portal: workouts": 8,
    "portal: progress": 6,
    "api: clients list": 10,
    "api: classes this week": 8,
    "api: workout sessions": 6,
    "write: book class": 3,
    "write: cancel booking": 3,
    "write: log set": 5,
    "write: add note": 3,
}
SEARCHES = ("smi", "pat", "jones", "ava", "oli", "tay", "kha", "mar", "wil", "gr")


@dataclass
class GymData:
    gym: Gym
    rich: bool
    staff: dict[str, list[int]] = field(default_factory=dict)  # role -> user ids
    trainer_clients: dict[int, list[int]] = field(default_factory=dict)  # trainer user -> clients
    client_ids: list[int] = field(default_factory=list)
    portal: list[tuple[int, int]] = field(default_factory=list)  # (user id, client id)
    workouts: dict[int, int] = field(default_factory=dict)  # client id -> open bench workout
    exercises: list[int] = field(default_factory=list)
    # Future classes with free spots: (class id, how many writers it can take)
    write_classes: list[tuple[int, int]] = field(default_factory=list)
    sessions: dict[int, str] = field(default_factory=dict)  # user id -> session key

    @property
    def host(self) -> str:
        return f"{self.gym.subdomain}.localhost"


# --- Seeding ----------------------------------------------------------------------------------


def _weighted_statuses() -> list[str]:
    return [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]


def _seed_people(gym: Gym, clients: int, rng: random.Random) -> None:
    """Staff, trainers, clients, assignments, notes and leads, in bulk. Tops up to `clients`."""
    sub = gym.subdomain
    password = make_password(None)  # unusable: the bench logs in by sessions
    trainers = max(5, clients // 200)
    wanted = [
        (f"manager@{sub}.example", Role.MANAGER, "Marcus", "Manager"),
        (f"desk@{sub}.example", Role.FRONT_DESK, "Frank", "Desk"),
        # The first trainer is the demo trainer the training seeder looks for.
        ("trainer@demo.example", Role.TRAINER, "Tara", "Trainer"),
        *(
            (f"coach{i}@{sub}.example", Role.TRAINER, FIRST_NAMES[i % 50], LAST_NAMES[i % 49])
            for i in range(1, trainers)
        ),
    ]
    have = set(User.objects.values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(
                email=email,
                role=role,
                first_name=first,
                last_name=last,
                password=password,
                is_staff=role == Role.MANAGER,
            )
            for email, role, first, last in wanted
            if email not in have
        ]
    )
    with_profile = set(Trainer.objects.values_list("user_id", flat=True))
    Trainer.objects.bulk_create(
        [
            Trainer(user=user, bio="Coach", specialties=["strength"], hourly_rate=50)
            for user in User.objects.filter(role=Role.TRAINER).order_by("pk")
            if user.pk not in with_profile
        ]
    )
    coaches = list(Trainer.objects.order_by("pk"))
    existing = Client.objects.count()
    if existing >= clients:
        return
    today = timezone.localdate()
    statuses = _weighted_statuses()
    batch = []
    for index in range(existing, clients):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = rng.choice(statuses)
        joined = today - timedelta(days=rng.randint(30, 900))
        batch.append(
            Client(
                first_name=first,
                last_name=last,
                email=_ascii(f"{first}.{last}.{index}@example.com"),
                phone=f"+4477009{index:05d}",
                date_of_birth=today - timedelta(days=rng.randint(18 * 365, 70 * 365)),
                goals=rng.choice(GOALS),
                status=status,
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                source=rng.choice(SOURCES),
                joined_on=joined,
                churned_on=today if status == ClientStatus.CHURNED else None,
                emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {last}",
                emergency_contact_phone=f"+4477008{index:05d}",
            )
        )
    created = Client.objects.bulk_create(batch, batch_size=2000)
    coached = [
        c
        for c in created
        if c.status in (ClientStatus.ACTIVE, ClientStatus.TRIAL, ClientStatus.PAUSED)
    ]
    Assignment.objects.bulk_create(
        [
            Assignment(
                client=c,
                trainer=coaches[c.pk % len(coaches)],
                is_primary=True,
                starts_on=c.joined_on,
            )
            for c in coached
        ],
        batch_size=2000,
    )
    notes = [
        Note(
            client=c,
            author_id=coaches[c.pk % len(coaches)].user_id,
            kind=NoteKind.SESSION,
            body="Good session: added 5 kg on squats, form solid.",
        )
        for c in coached
        if rng.random() < 0.4
    ]
    Note.objects.bulk_create(notes, batch_size=2000)
    if not Lead.objects.exists():
        Lead.objects.bulk_create(
            [
                Lead(first_name=rng.choice(FIRST_NAMES), email=f"lead{i}@{sub}.example")
                for i in range(12)
            ]
        )


def _seed_portal(gym: Gym) -> None:
    """Portal logins for clients with a plan (then measurements, then any active client), and an
    open workout each of them logs the load's sets into."""
    if User.objects.filter(role=Role.CLIENT).count() >= PORTAL_CLIENTS:
        return
    with_plan = list(
        WorkoutPlan.objects.filter(is_template=False)
        .order_by("client_id")
        .values_list("client_id", flat=True)
    )
    chosen = list(dict.fromkeys(with_plan))
    more = Client.objects.filter(status=ClientStatus.ACTIVE, user__isnull=True).exclude(
        pk__in=chosen
    )
    chosen += list(more.order_by("pk").values_list("pk", flat=True)[:PORTAL_CLIENTS])
    clients = list(Client.objects.filter(pk__in=chosen[:PORTAL_CLIENTS], user__isnull=True))
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                email=c.email,
                role=Role.CLIENT,
                first_name=c.first_name,
                last_name=c.last_name,
                password=password,
            )
            for c in clients
        ]
    )
    for client, user in zip(clients, users, strict=True):
        client.user = user
    Client.objects.bulk_update(clients, ["user"])
    now = timezone.now()
    WorkoutLog.objects.bulk_create(
        [
            WorkoutLog(
                client=c,
                performed_on=timezone.localdate(),
                started_at=now,
                notes=BENCH_WORKOUT,
                created_by=c.user,
            )
            for c in clients
        ]
    )


def seed(args: argparse.Namespace) -> list[GymData]:
    started = time.monotonic()
    specs = [(f"{PREFIX}big", args.big_clients)] + [
        (f"{PREFIX}{n:02d}", args.clients) for n in range(1, args.gyms + 1)
    ]
    gyms = []
    for index, (subdomain, clients) in enumerate(specs):
        rng = random.Random(index)
        gym = Gym.objects.filter(subdomain=subdomain).first()
        if gym is None:
            gym = gym_create(
                name=f"Load {subdomain}",
                subdomain=subdomain,
                owner_email=f"owner@{subdomain}.example",
                time_zone="Europe/London",
            )
        rich = index < RICH_GYMS
        with tenant_context(gym):
            _seed_people(gym, clients, rng)
            if rich:
                owner = User.objects.filter(role=Role.OWNER).order_by("pk").first()
                seed_schedule(owner=owner)  # tops the classes up to two weeks ahead
                seed_training(owner=owner)
                seed_measurements(owner=owner)
                _seed_portal(gym)
        gyms.append(GymData(gym=gym, rich=rich))
        if (index + 1) % 10 == 0:
            print(f"  {index + 1} gyms ready ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"Seeding: {time.monotonic() - started:.1f} s for {len(gyms)} gyms", flush=True)
    return gyms


# --- Users, sessions and what each may request ---------------------------------------------


def _session(data: GymData, user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "apps.accounts.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def load_users(data: GymData) -> None:
    """Sessions for the gym's staff and portal clients, and the ids the requests need."""
    with tenant_context(data.gym):
        users = list(User.objects.filter(is_active=True))
        for user in users:
            data.sessions[user.pk] = _session(data, user)
            data.staff.setdefault(user.role, []).append(user.pk)
        data.client_ids = list(Client.objects.order_by("?").values_list("pk", flat=True)[:300])
        for trainer_user, client in Assignment.objects.filter(
            ends_on__isnull=True, trainer__user__isnull=False
        ).values_list("trainer__user_id", "client_id"):
            data.trainer_clients.setdefault(trainer_user, []).append(client)
        if not data.rich:
            return
        data.portal = list(
            Client.objects.filter(user__role=Role.CLIENT)
            .order_by("pk")
            .values_list("user_id", "pk")
        )
        data.workouts = dict(
            WorkoutLog.objects.filter(notes=BENCH_WORKOUT).values_list("client_id", "pk")
        )
        data.exercises = list(
            Exercise.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)[:8]
        )
        data.write_classes = _write_classes([client for _user, client in data.portal])


def _write_classes(writers: list[int]) -> list[tuple[int, int]]:
    """Classes 2 to 12 days ahead, open for booking, with no waitlist, and how many of the
    load's bookings each takes while one spot stays free: a cancellation then never promotes
    anyone from a waitlist (which would send an email)."""
    now = timezone.now()
    found = []
    for occurrence in ClassOccurrence.objects.filter(
        starts_at__gt=now + timedelta(days=2),
        starts_at__lt=now + timedelta(days=12),
        is_cancelled=False,
    ).select_related("class_type"):
        opens = occurrence.starts_at - timedelta(days=occurrence.class_type.booking_opens_days)
        if opens > now:
            continue
        others = ClassBooking.objects.filter(occurrence=occurrence).exclude(client_id__in=writers)
        if others.filter(status=ClassBookingStatus.WAITLISTED).exists():
            continue
        free = occurrence.capacity - others.filter(status__in=SPOT_STATUSES).count() - 1
        if free > 0:
            found.append((occurrence.pk, free))
    return found


def undo_writes(gyms: list[GymData]) -> None:
    """Put the data back as it was before the load's writes: its bookings cancelled through the
    service and removed, its sets and notes deleted (the load's notes are the only `general`
    ones in the rich gyms)."""
    for data in gyms:
        if not data.rich:
            continue
        with tenant_context(data.gym):
            clients = [client for _user, client in data.portal]
            owner = User.objects.filter(role=Role.OWNER).order_by("pk").first()
            classes = [pk for pk, _free in data.write_classes]
            for booking in ClassBooking.objects.filter(
                client_id__in=clients,
                occurrence_id__in=classes,
                status__in=ACTIVE_CLASS_STATUSES,
            ).select_related("occurrence", "client"):
                class_services.class_cancel(actor=owner, booking=booking, waive_late=True)
            ClassBooking.objects.filter(client_id__in=clients, occurrence_id__in=classes).delete()
            SetLog.objects.filter(log_id__in=data.workouts.values()).delete()
            Note.objects.filter(kind=NoteKind.GENERAL).delete()


@dataclass
class Request:
    kind: str
    host: str
    session: str
    method: str = "GET"
    path: str = "/"
    body: str = ""
    # The query count variants (see count_queries); the first is the one loaded.
    variants: tuple[str, ...] = ()

    def line(self, csrf: str) -> str:
        headers = [f"Host: {self.host}", f"Cookie: sessionid={self.session}; csrftoken={csrf}"]
        if self.method == "POST":
            headers += [f"X-CSRFToken: {csrf}", "Content-Type: application/json"]
        else:
            headers.append("Accept: text/html,application/json")
        return "\t".join((self.kind, self.method, self.path, "\x1f".join(headers), self.body))


def _pick(rng: random.Random, items: list) -> object:
    return items[rng.randrange(len(items))]


def _reads(
    kind: str, data: GymData, rng: random.Random, today: date, owner: bool = False
) -> Request:
    """One read of `kind` by a user of the gym allowed to make it (staff pages: by its owner
    when `owner`, so that two gyms are compared with the same role)."""
    staff = [u for role in (Role.OWNER, Role.MANAGER) for u in data.staff.get(role, [])]
    trainers = [u for u in data.staff.get(Role.TRAINER, []) if data.trainer_clients.get(u)]
    desk = data.staff.get(Role.FRONT_DESK, [])
    if owner:
        staff, trainers, desk = data.staff[Role.OWNER][:1], [], []
    everyone = staff + trainers + desk
    user = None
    path = "/"
    if kind == "page: dashboard":
        user = _pick(rng, everyone)
    elif kind == "page: client list search":
        user = _pick(rng, everyone)
        path = f"/clients/?search={_pick(rng, list(SEARCHES))}"
    elif kind == "page: client profile":
        user = _pick(rng, staff + trainers)
        pool = data.trainer_clients.get(user) or data.client_ids
        path = f"/clients/{_pick(rng, pool)}/"
    elif kind == "page: calendar week":
        user = _pick(rng, everyone)
        path = f"/schedule/calendar/?view=week&date={today.isoformat()}"
    elif kind == "api: clients list":
        user = _pick(rng, staff + trainers)
        path = "/api/v1/clients/?page_size=25"
    elif kind.startswith(("portal:", "api: classes", "api: workout")):
        user, _client = _pick(rng, data.portal)
        path = {
            "portal: schedule": "/portal/schedule/",
            "portal: workouts": "/portal/workouts/",
            "portal: progress": "/portal/progress/",
            "api: classes this week": (
                f"/api/v1/occurrences/?from={today.isoformat()}"
                f"&to={(today + timedelta(days=6)).isoformat()}"
            ),
            "api: workout sessions": "/api/v1/workout-sessions/",
        }[kind]
    return Request(kind=kind, host=data.host, session=data.sessions[user], path=path)


# A booking's cancellation comes this many requests later in its thread's list: eight times
# the connections a thread has, so the booking has long been answered by then (a cancellation
# sent too early would be a 404, counted as an error).
CANCEL_AFTER = 64
RICH_ONLY = ("page: calendar week", "portal:", "api: classes", "api: workout", "write:")


def build_lists(gyms: list[GymData], length: int, seed: int = 16) -> list[list[Request]]:
    """One rotation list per wrk thread. Each booking is cancelled CANCEL_AFTER requests later
    in the same list (never wrapping round); each (client, class) pair is in one list only."""
    rng = random.Random(seed)
    today = timezone.localdate()
    rich = [g for g in gyms if g.rich]
    lists: list[list[Request]] = []
    pairs = []
    for data in rich:
        # Every writer books classes of their own gym, each class up to its free spots.
        for occurrence, free in data.write_classes:
            writers = rng.sample(data.portal, min(free, len(data.portal)))
            pairs += [(data, user, client, occurrence) for user, client in writers]
    rng.shuffle(pairs)
    books_per_list = length * MIX["write: book class"] // 100
    if len(pairs) < CONCURRENCY_THREADS * books_per_list:
        raise SystemExit(f"{len(pairs)} booking pairs, {books_per_list} a list needed")
    kinds = [k for k, weight in MIX.items() for _ in range(weight) if not k.startswith("write:")]
    for thread in range(CONCURRENCY_THREADS):
        slots: list[Request | None] = [None] * length
        mine = pairs[thread * books_per_list : (thread + 1) * books_per_list]
        step = (length - CANCEL_AFTER - 2 * books_per_list) // books_per_list
        for index, (data, user, _client, occ) in enumerate(mine):
            # Not at 0: wrk calls request() once before the run to check the script (the first
            # request of the first thread is made and never sent).
            at = 1 + index * step
            session = data.sessions[user]
            slots[at] = Request(
                "write: book class", data.host, session, "POST", f"/api/v1/occurrences/{occ}/book/"
            )
            later = next(i for i in range(at + CANCEL_AFTER, length) if slots[i] is None)
            slots[later] = Request(
                "write: cancel booking",
                data.host,
                session,
                "POST",
                f"/api/v1/occurrences/{occ}/cancel/",
            )
        free = [i for i, slot in enumerate(slots) if slot is None]
        rng.shuffle(free)
        writes = {
            "write: log set": length * MIX["write: log set"] // 100,
            "write: add note": length * MIX["write: add note"] // 100,
        }
        for kind, count in writes.items():
            for _ in range(count):
                data = _pick(rng, rich)
                if kind == "write: log set":
                    user, client = _pick(rng, data.portal)
                    body = {
                        "workout": data.workouts[client],
                        "exercise": _pick(rng, data.exercises),
                        "reps": rng.randint(5, 12),
                        "load": str(rng.randint(20, 100)),
                        "weight_unit": "kg",
                    }
                    request = Request(kind, data.host, data.sessions[user], "POST")
                    request.path = "/api/v1/set-logs/"
                else:
                    trainer = _pick(
                        rng, [u for u in data.staff[Role.TRAINER] if data.trainer_clients.get(u)]
                    )
                    body = {
                        "client": _pick(rng, data.trainer_clients[trainer]),
                        "kind": "general",
                        "body": "Bench session: steady progress on the main lifts.",
                    }
                    request = Request(kind, data.host, data.sessions[trainer], "POST")
                    request.path = "/api/v1/notes/"
                request.body = json.dumps(body)
                slots[free.pop()] = request
        for index in free:
            kind = _pick(rng, kinds)
            data = _pick(rng, rich if kind.startswith(RICH_ONLY) else gyms)
            slots[index] = _reads(kind, data, rng, today)
        lists.append([slot for slot in slots if slot is not None])
    return lists


# --- Query counts ------------------------------------------------------------------------


def count_queries(
    gyms: list[GymData], lists: list[list[Request]]
) -> tuple[dict[str, str], dict[str, float]]:
    """Queries one request of each read type runs: in a standard gym / in the big gym, and for
    the API lists at page_size 10 / 100 as well; staff requests by the owner. Writes: book,
    cancel, log set, add note once each (then undone with the rest of the load's writes).
    And the time one request takes alone, in this process with nothing else running (reads:
    the median of three more in the standard gym): what the server spends on it when it has
    a core to itself."""
    big, standard = gyms[0], next((g for g in gyms[1:] if g.rich), gyms[-1])
    rng = random.Random(5)
    today = timezone.localdate()
    counts: dict[str, str] = {}
    alone: dict[str, float] = {}
    failures: list[str] = []
    timings: list[float] = []
    # One test client for all: its first request builds the middleware chain (WhiteNoise
    # scans the static files then), as a server process does once at start.
    client = HttpClient()
    client.get("/health/live", HTTP_HOST=standard.host)

    def run(request: Request, path: str | None = None) -> int:
        client.cookies["sessionid"] = request.session
        client.defaults["HTTP_HOST"] = request.host
        # From the public schema, as a server thread's connection may be: the tenant
        # middleware sets the gym's.
        connection.set_schema_to_public()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            if request.method == "POST":
                response = client.post(
                    path or request.path, request.body, content_type="application/json"
                )
            else:
                response = client.get(path or request.path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            failures.append(f"{response.status_code} {request.method} {request.path}")
        return len(queries)

    for kind in MIX:
        if kind.startswith("write:"):
            continue
        sizes = [run(_reads(kind, data, rng, today, owner=True)) for data in (standard, big)]
        timings.clear()
        for _ in range(3):
            run(_reads(kind, standard, rng, today, owner=True))
        alone[kind] = sorted(timings)[1]
        text = f"{sizes[0]}/{sizes[1]}"
        if kind.startswith("api: "):
            request = _reads(kind, standard, rng, today, owner=True)
            base = re.sub(r"[?&]page_size=\d+", "", request.path)
            joiner = "&" if "?" in base else "?"
            pages = [run(request, f"{base}{joiner}page_size={size}") for size in (10, 100)]
            text += f" ps {pages[0]}/{pages[1]}"
        counts[kind] = text
    seen: set[str] = set()
    for request in (r for rows in lists for r in rows):
        if request.kind.startswith("write:") and request.kind not in seen:
            seen.add(request.kind)
            counts[request.kind] = str(run(request))
            alone[request.kind] = timings[-1]
            if request.kind == "write: book class":
                cancel = request.path.replace("/book/", "/cancel/")
                counts["write: cancel booking"] = str(
                    run(
                        Request("write: cancel booking", request.host, request.session, "POST"),
                        cancel,
                    )
                )
                alone["write: cancel booking"] = timings[-1]
                seen.add("write: cancel booking")
    for line in failures[:5]:
        print(f"  query count request failed: {line}")
    return counts, alone


# --- Server and load -------------------------------------------------------------------------


def procfile(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"no {process} line in the Procfile")


def process_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        **SERVER_ENV,
        "PORT": str(port),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        # gunicorn.conf.py binds 0.0.0.0:$PORT; the bench listens on loopback only (gunicorn
        # takes GUNICORN_CMD_ARGS over its config file).
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
    }


def release() -> None:
    command = procfile("release")
    print(f"release: {command}", flush=True)
    started = time.monotonic()
    subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=process_env(0),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"release: {time.monotonic() - started:.1f} s", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(port: int, host: str, log: Path) -> subprocess.Popen:
    command = procfile("web").replace("0.0.0.0:", "127.0.0.1:")
    print(f"web: {command}", flush=True)
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=ROOT,
        env=process_env(port),
        stdout=subprocess.DEVNULL,  # the access log
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/health/live", headers={"Host": host}
            )
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310
                return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server did not start: see {log}")


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("Installing wrk (Debian package)...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


@dataclass
class Result:
    seconds: float
    latencies: dict[str, list[float]]  # kind -> ms
    errors: dict[str, int]
    error_lines: list[str]
    socket_errors: int
    unmatched: int
    wrk_p95: float
    server_cpu: float = 0.0  # CPU seconds the web processes used during the run
    database_cpu: float = 0.0  # and the PostgreSQL backends of the bench database


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user + system) each process has used so far."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or not ours to read
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def server_pids(pid: int) -> list[int]:
    """The gunicorn master and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def database_pids() -> list[int]:
    """The PostgreSQL backends serving the bench database (the web processes' pools)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [BENCH_DB],
        )
        return [pid for (pid,) in cursor.fetchall()]


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def run_wrk(
    wrk: str,
    port: int,
    lists: list[list[str]],
    seconds: int,
    concurrency: int,
    work: Path,
    server: int = 0,
) -> Result:
    prefix = work / "requests"
    for number, lines in enumerate(lists, start=1):
        Path(f"{prefix}.{number}").write_text("\n".join(lines) + "\n")
    results = work / "results"
    env = {**os.environ, "MIXED_LOAD_REQUESTS": str(prefix), "MIXED_LOAD_RESULTS": str(results)}
    command = [
        wrk,
        f"-t{len(lists)}",
        f"-c{concurrency}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
    ]
    web_before = cpu_seconds(server_pids(server)) if server else {}
    database_before = cpu_seconds(database_pids()) if server else {}
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    web = cpu_used(web_before, cpu_seconds(server_pids(server))) if server else 0.0
    database = cpu_used(database_before, cpu_seconds(database_pids())) if server else 0.0
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    error_lines: list[str] = []
    socket_errors = unmatched = 0
    duration, wrk_p95 = float(seconds), 0.0
    for line in results.read_text().splitlines():
        fields = line.split("\t")
        if fields[0] == "R":
            latencies[fields[1]].append(int(fields[2]) / 1000)
            if int(fields[3]) >= 400:
                errors[fields[1]] += 1
        elif fields[0] == "E":
            error_lines.append(fields[1])
        elif fields[0] == "U":
            unmatched += int(fields[1])
        elif fields[0] == "SUMMARY":
            duration = int(fields[2]) / 1e6
            socket_errors = int(fields[3])
            wrk_p95 = int(fields[5]) / 1000
    return Result(
        duration, latencies, errors, error_lines, socket_errors, unmatched, wrk_p95, web, database
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(
    label: str,
    values: list[float],
    errors: int,
    seconds: float,
    queries: str = "",
    alone: float | None = None,
) -> str:
    return (
        f"{label:<26} {len(values):>8} {errors:>6} {len(values) / seconds:>7.1f} "
        f"{percentile(values, 50):>7.1f} {percentile(values, 95):>7.1f} "
        f"{percentile(values, 99):>7.1f} {'' if alone is None else f'{alone:.1f}':>7}  {queries}"
    )


def report(
    args: argparse.Namespace,
    mixed: Result,
    bare: Result,
    counts: dict[str, str],
    alone: dict[str, float],
    seeding: float,
    load_average: float,
    spread: tuple[int, int],
) -> None:
    print()
    print(
        f"{args.gyms} gyms x {args.clients} clients + 1 x {args.big_clients}; "
        f"concurrency {args.concurrency}, {args.seconds} s; {os.cpu_count()} cores; "
        f"seeding {seeding:.1f} s; load average before the run {load_average:.1f}"
    )
    print(f"web: {procfile('web')}; requests from {spread[0]} users in {spread[1]} gyms")
    header = (
        f"{'request type':<26} {'requests':>8} {'errors':>6} {'RPS':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'alone':>7}  "
        "queries (std/big gym, page size 10/100)"
    )
    print(header)
    print("-" * len(header))
    for kind in MIX:
        values = mixed.latencies.get(kind, [])
        print(
            row(
                kind,
                values,
                mixed.errors.get(kind, 0),
                mixed.seconds,
                counts.get(kind, ""),
                alone.get(kind),
            )
        )
    everything = [v for values in mixed.latencies.values() for v in values]
    total_errors = sum(mixed.errors.values()) + mixed.socket_errors + mixed.unmatched
    print("-" * len(header))
    print(row("overall", everything, total_errors, mixed.seconds))
    bare_values = bare.latencies.get("bare: /health/live", [])
    bare_errors = sum(bare.errors.values()) + bare.socket_errors + bare.unmatched
    print(row("bare view /health/live", bare_values, bare_errors, bare.seconds))
    print(
        f"(wrk's own overall p95, which adds samples to correct for coordinated omission: "
        f"{mixed.wrk_p95:.1f} ms; socket errors {mixed.socket_errors}, "
        f"responses without a request id {mixed.unmatched})"
    )
    for label, result, count in (
        ("mixed", mixed, len(everything)),
        ("bare view", bare, len(bare_values)),
    ):
        print(
            f"CPU a request, {label}: web processes {result.server_cpu * 1000 / max(1, count):.1f}"
            f" ms, PostgreSQL {result.database_cpu * 1000 / max(1, count):.1f} ms; cores busy: "
            f"web {result.server_cpu / result.seconds:.2f}, PostgreSQL "
            f"{result.database_cpu / result.seconds:.2f} (of {os.cpu_count()})"
        )
    # Whatever else runs on the machine: with `concurrency` requests always in flight, a
    # request waits for the CPU the others need, so the mean latency is at least this.
    cores = os.cpu_count() or 1
    cpu_each = (mixed.server_cpu + mixed.database_cpu) / max(1, len(everything))
    budget = cores * 0.1 / args.concurrency
    print(
        f"Bound: {args.concurrency} in flight x {cpu_each * 1000:.1f} ms of CPU each / {cores} "
        f"cores = mean latency of at least {args.concurrency * cpu_each / cores * 1000:.0f} ms "
        f"on an idle machine; a p95 under 100 ms needs under {budget * 1000:.1f} ms of CPU a "
        "request (web + PostgreSQL)"
    )
    for line in (mixed.error_lines + bare.error_lines)[:8]:
        print(f"  error: {line}")
    p95 = percentile(everything, 95)

    def constant(text: str) -> bool:
        pairs = re.findall(r"(\d+)/(\d+)", text)
        return all(a == b for a, b in pairs)

    varying = [k for k, text in counts.items() if not constant(text)]
    targets = [
        ("0 errors", total_errors + bare_errors == 0, f"{total_errors + bare_errors} errors"),
        ("overall p95 under 100 ms", p95 < 100, f"p95 {p95:.1f} ms"),
        (
            "queries constant in page size",
            not varying,
            "varying: " + ", ".join(varying) if varying else "all constant",
        ),
    ]
    print()
    for name, met, detail in targets:
        print(f"target {name:<32} {'met' if met else 'NOT MET':<8} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gyms", type=int, default=50)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--big-clients", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--list-length", type=int, default=2000, help="requests per wrk thread")
    args = parser.parse_args()
    if args.gyms < RICH_GYMS - 1:
        raise SystemExit(f"--gyms at least {RICH_GYMS - 1}")

    release()
    started = time.monotonic()
    gyms = seed(args)
    seeding = time.monotonic() - started
    for data in gyms:
        load_users(data)
    lists = build_lists(gyms, args.list_length)
    undo_writes(gyms)  # of a run that was interrupted
    counts, alone = count_queries(gyms, lists)
    undo_writes(gyms)
    csrf = secrets.token_hex(16)
    lines = [[request.line(csrf) for request in rows] for rows in lists]
    bare_lines = [[f"bare: /health/live\tGET\t/health/live\tHost: {gyms[1].host}\t"] for _ in lists]

    wrk = ensure_wrk()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mixed_load_") as folder:
        work = Path(folder)
        server = start_web(port, gyms[0].host, work / "server.log")
        try:
            warm = max(2, args.seconds // 6)
            run_wrk(wrk, port, lines, warm, args.concurrency, work)
            time.sleep(1)
            undo_writes(gyms)
            run_wrk(wrk, port, bare_lines, warm, args.concurrency, work)
            load_average = os.getloadavg()[0]
            mixed = run_wrk(wrk, port, lines, args.seconds, args.concurrency, work, server.pid)
            bare = run_wrk(wrk, port, bare_lines, args.seconds, args.concurrency, work, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log = (work / "server.log").read_text()
            if log.strip():
                print("server log (last lines):")
                print("\n".join(log.strip().splitlines()[-15:]))
        time.sleep(1)
        undo_writes(gyms)
    spread = (
        len({(r.host, r.session) for rows in lists for r in rows}),
        len({r.host for rows in lists for r in rows}),
    )
    report(args, mixed, bare, counts, alone, seeding, load_average, spread)


if __name__ == "__main__":
    main()
