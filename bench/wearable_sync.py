"""A full daily sync of --clients connected clients in --gyms gyms against the loopback fakes
(tests/fakes/strava.py, garmin.py and google_health.py), run as the beat's sync tasks run it
(apps.wearables.services.sync.connection_sync), --workers at a time. Every client has a Strava
connection; --garmin-share of them also a Garmin one and --google-share a Google Health one.
Each has --activities outside workouts since the last sync (a day ago) at each provider.

1. Throughput: the providers' limits lifted; every connection synced once. Prints the wall time,
   connections per second, requests to each provider, rows stored, and lost and doubled
   updates (every fake activity stored exactly once: both must be 0). Garmin answers a sync
   with 202 and pushes the data to our webhook later: its pushes are POSTed to
   /integrations/garmin/webhook/ through Django's request handler after the syncs.
2. 429s injected: Strava answers --fail-rate of its API calls with 429 (with its rate-limit
   headers); a 429 stops every gym until the window turns (integrations/budget.py). Failed
   syncs are retried round after round (each round a window that turned: the block is lifted)
   until every connection has synced. Prints the rounds, the 429s and lost/doubled updates.
3. Strava's read budget: the same full sync against Strava's real read limits (100 requests a
   15-minute window, 1,000 a day, for the whole application) in simulated time: the budget's
   clock starts at midnight UTC and advances window by window. Prints what a full sync costs,
   how many windows and how long it takes, and whether it fits a day with the webhooks' own
   reads (one GET per new activity) on top.

    .venv/bin/python bench/wearable_sync.py [--clients 1000] [--gyms 20] [--workers 8]
        [--activities 2] [--garmin-share 0.5] [--google-share 0.3] [--fail-rate 0.05]
        [--parts 1 2 3] [--keep]

Uses DATABASE_URL (a migrated database; TENANT_SPARE_SCHEMAS=0 keeps gym creation quick) and
REDIS_URL (the shared budget); works in gyms of its own ("bench-wear-01"...), dropped at the end
unless --keep (a later run reuses them). Celery tasks run eagerly in the syncing thread, so the
outside-workout matching that follows each sync (services/adherence.py) is in the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.core.cache import cache
from django.db import connection as db
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from apps.crm.models import Client
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from apps.wearables.integrations import budget
from apps.wearables.integrations.errors import ProviderError, RateLimitedError
from apps.wearables.models import Connection, ExternalWorkout, Provider
from apps.wearables.routing.models import WearableAccount
from apps.wearables.services.sync import connection_sync
from tests.fakes.garmin import FakeGarmin
from tests.fakes.google_health import SCOPE_PREFIX, FakeGoogleHealth, iso
from tests.fakes.strava import FakeStrava

SUBDOMAIN = "bench-wear-{:02d}"
PASSWORD = "bench mark pass phrase"
STRAVA_ID, STRAVA_SECRET = "bench-strava", "bench-strava-secret"
GARMIN_ID, GARMIN_SECRET = "bench-garmin", "bench-garmin-secret"
GOOGLE_ID, GOOGLE_SECRET = "bench-google", "bench-google-secret"
STRAVA_READS_15MIN, STRAVA_READS_DAILY = 100, 1000
UNLIMITED = 10**9

from fitnesscrm.celery import app as celery_app

# Tasks run in the thread that sends them: one process is the worker.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


class FlakyStrava(FakeStrava):
    """The Strava fake, answering a share of its API calls with 429 as Strava does."""

    fail_rate = 0.0
    failures = 0

    def _api(self, handler: Any, path: str, query: dict[str, str]) -> tuple[int, Any, dict]:
        if self.fail_rate and random.random() < self.fail_rate:
            with self.lock:
                self.failures += 1
                usage = f"{self.limit_15min},{self.usage[1]}"
            limits = f"{self.limit_15min},{self.limit_daily}"
            headers = {"X-RateLimit-Limit": limits, "X-RateLimit-Usage": usage}
            return 429, {"message": "Rate Limit Exceeded"}, headers
        return super()._api(handler, path, query)


# --- Set-up -----------------------------------------------------------------------------------


def gyms_ready(count: int) -> list[Gym]:
    gyms = []
    for number in range(1, count + 1):
        subdomain = SUBDOMAIN.format(number)
        gym = Gym.objects.filter(subdomain=subdomain).first() or gym_create(
            name=f"Bench wearables {number}",
            subdomain=subdomain,
            owner_email=f"owner@{subdomain}.example",
            owner_password=PASSWORD,
        )
        gyms.append(gym)
    db.set_schema_to_public()
    return gyms


def cleanup(gyms: list[Gym]) -> None:
    db.set_schema_to_public()
    for gym in gyms:
        WearableAccount.objects.filter(gym=gym).delete()
        gym.delete(force_drop=True)


def connect_all(
    gyms: list[Gym],
    strava: FakeStrava,
    garmin: FakeGarmin,
    google: FakeGoogleHealth,
    args: argparse.Namespace,
) -> list[tuple[Gym, int, str, str]]:
    """Clients and their connections (tokens the fakes issued, as after consent), fresh in each
    gym: [(gym, connection id, provider, the provider's user id)]."""
    per_gym = args.clients // len(gyms)
    rng = random.Random(20)
    connections: list[tuple[Gym, int, str, str]] = []
    expires = timezone.now() + timedelta(hours=5)
    for gym in gyms:
        with tenant_context(gym):
            ExternalWorkout.objects.all().delete()
            Connection.objects.all().delete()
            Client.objects.filter(email__endswith="@bench-wear.example").delete()
            clients = Client.objects.bulk_create(
                Client(first_name="Runner", last_name=str(i), email=f"r{i}@bench-wear.example")
                for i in range(per_gym)
            )
            rows, accounts = [], []
            for client in clients:
                athlete = strava.add_athlete()
                token = strava._issue(athlete)
                rows.append(
                    Connection(
                        client=client,
                        provider=Provider.STRAVA,
                        provider_user_id=str(athlete),
                        kinds="workouts",
                        access_token=token["access_token"],
                        refresh_token=token["refresh_token"],
                        expires_at=expires,
                    )
                )
                if rng.random() < args.google_share:
                    user = google.add_user()
                    scopes = {f"{SCOPE_PREFIX}activity_and_fitness"}
                    token = google._issue(user, scopes, secrets.token_hex(8))
                    refresh = secrets.token_urlsafe(32)
                    google.refresh_tokens[refresh] = (user, scopes, "bench")
                    rows.append(
                        Connection(
                            client=client,
                            provider=Provider.GOOGLE_HEALTH,
                            provider_user_id=user,
                            kinds="workouts",
                            scopes=" ".join(sorted(scopes)),
                            access_token=token["access_token"],
                            refresh_token=refresh,
                            expires_at=timezone.now() + timedelta(minutes=50),
                        )
                    )
                if rng.random() < args.garmin_share:
                    user = garmin.add_user()
                    token = garmin._issue(user)
                    rows.append(
                        Connection(
                            client=client,
                            provider=Provider.GARMIN,
                            provider_user_id=user,
                            kinds="workouts",
                            access_token=token["access_token"],
                            refresh_token=token["refresh_token"],
                            expires_at=expires,
                        )
                    )
            made = Connection.objects.bulk_create(rows)
            for row in made:
                connections.append((gym, row.pk, row.provider, row.provider_user_id))
                if row.provider == Provider.GARMIN:
                    accounts.append(
                        WearableAccount(
                            provider=Provider.GARMIN,
                            provider_user_id=row.provider_user_id,
                            gym=gym,
                            connection_id=row.pk,
                        )
                    )
        with schema_context(get_public_schema_name()):
            WearableAccount.objects.filter(gym=gym).delete()
            WearableAccount.objects.bulk_create(accounts)
    return connections


def add_activities(
    connections: list[tuple[Gym, int, str, str]],
    strava: FakeStrava,
    garmin: FakeGarmin,
    google: FakeGoogleHealth,
    count: int,
) -> None:
    """`count` new activities per connection since the last sync (the day before)."""
    for _gym, _pk, provider, user in connections:
        for n in range(count):
            days_ago = 0.1 + 0.8 * n / max(1, count)
            if provider == Provider.STRAVA:
                strava.add_activity(int(user), days_ago=days_ago)
            elif provider == Provider.GARMIN:
                garmin.activity(user, days_ago=days_ago)
            else:
                start = datetime.now(UTC) - timedelta(days=days_ago)
                google.add_point(
                    user,
                    "exercise",
                    {
                        "interval": {
                            "startTime": iso(start),
                            "endTime": iso(start + timedelta(minutes=30)),
                            "startUtcOffset": "0s",
                        },
                        "exerciseType": "RUNNING",
                        "displayName": "Lunch run",
                        "activeDuration": "1750s",
                        "metricsSummary": {"distanceMillimeters": "5012000"},
                    },
                )


def daily_state(connections: list[tuple[Gym, int, str, str]]) -> None:
    """Every connection last synced a day ago: the next sync is a daily one."""
    yesterday = timezone.now() - timedelta(days=1)
    by_gym: dict[int, list[int]] = {}
    for gym, pk, _provider, _user in connections:
        by_gym.setdefault(gym.pk, []).append(pk)
    gyms = {gym.pk: gym for gym, *_rest in connections}
    for gym_pk, pks in by_gym.items():
        with tenant_context(gyms[gym_pk]):
            Connection.objects.filter(pk__in=pks).update(
                last_sync_at=yesterday, next_attempt_at=None, last_error="", status="active"
            )


def budget_reset() -> None:
    """The shared budget's counters of the current window and day (by the budget's clock, which
    part 3 simulates) and its block, gone."""
    with schema_context(get_public_schema_name()):
        for provider in (Provider.STRAVA, Provider.GARMIN, Provider.GOOGLE_HEALTH):
            keys = budget._keys(provider, budget.time.time())
            cache.delete_many(list(keys))


# --- Running syncs ----------------------------------------------------------------------------


def sync_all(
    connections: list[tuple[Gym, int, str, str]], workers: int, *, stop_on_limit: bool = False
) -> tuple[list[tuple[Gym, int, str, str]], Counter[str]]:
    """connection_sync for each, `workers` at a time; returns those that failed (or, with
    `stop_on_limit`, were not tried once the provider's budget was spent: each would be refused
    until the window turns), and why."""
    failed: list[tuple[Gym, int, str, str]] = []
    reasons: Counter[str] = Counter()
    lock = threading.Lock()
    limited = threading.Event()

    def one(item: tuple[Gym, int, str, str]) -> None:
        gym, pk, _provider, _user = item
        if limited.is_set():
            with lock:
                failed.append(item)
            return
        try:
            with tenant_context(gym):
                connection_sync(connection_id=pk)
        except (RateLimitedError, ProviderError) as error:
            if stop_on_limit and isinstance(error, RateLimitedError):
                limited.set()
            with lock:
                failed.append(item)
                reasons[f"{item[2]}: {type(error).__name__}"] += 1

    def run(chunk: list[tuple[Gym, int, str, str]]) -> None:
        try:
            for item in chunk:
                one(item)
        finally:
            db.close()

    chunks = [connections[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, chunks))
    return failed, reasons


def garmin_deliver(garmin: FakeGarmin) -> tuple[int, float]:
    """POST Garmin's queued pushes to our webhook; (deliveries, seconds)."""
    http = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)

    def post(body: dict[str, Any], headers: dict[str, str]) -> None:
        response = http.post(
            "/integrations/garmin/webhook/",
            data=body,
            content_type="application/json",
            HTTP_GARMIN_CLIENT_ID=headers["garmin-client-id"],
        )
        assert response.status_code == 200, response.content

    began = time.perf_counter()
    sent = garmin.flush(post)
    db.set_schema_to_public()
    return sent, time.perf_counter() - began


def api_requests(fake: Any, prefix: str) -> int:
    return sum(1 for method, path in fake.requests if path.startswith(prefix))


def lost_and_doubled(
    connections: list[tuple[Gym, int, str, str]],
    strava: FakeStrava,
    garmin: FakeGarmin,
    google: FakeGoogleHealth,
) -> tuple[int, int, int]:
    """(expected rows, missing, extra): every fake activity stored exactly once."""
    expected: dict[tuple[int, str], set[str]] = {}
    for gym, _pk, provider, user in connections:
        if provider == Provider.STRAVA:
            ids = {str(a) for a in strava.athletes.get(int(user), {})}
        elif provider == Provider.GARMIN:
            ids = set(garmin.summaries.get("activities", {}).get(user, {}))
        else:
            points = google.users[user]["points"].get("exercise", [])
            ids = {point["name"].rsplit("/", 1)[-1] for point in points}
        expected.setdefault((gym.pk, provider), set()).update(ids)
    stored: dict[tuple[int, str], Counter[str]] = {}
    for gym in {gym.pk: gym for gym, *_rest in connections}.values():
        with tenant_context(gym):
            for provider, provider_id in ExternalWorkout.objects.values_list(
                "provider", "provider_id"
            ):
                stored.setdefault((gym.pk, provider), Counter())[provider_id] += 1
    total = missing = extra = 0
    for key, ids in expected.items():
        have = stored.get(key, Counter())
        total += len(ids)
        missing += len(ids - set(have))
        extra += sum(n - 1 for n in have.values()) + len(set(have) - ids)
    return total, missing, extra


def lift_limits(strava: FakeStrava) -> None:
    settings.STRAVA_RATE_LIMIT_15MIN = UNLIMITED
    settings.STRAVA_RATE_LIMIT_DAILY = UNLIMITED
    strava.limit_15min = strava.limit_daily = UNLIMITED


# --- The three parts --------------------------------------------------------------------------


def throughput(
    connections: list[tuple[Gym, int, str, str]],
    strava: FakeStrava,
    garmin: FakeGarmin,
    google: FakeGoogleHealth,
    args: argparse.Namespace,
) -> bool:
    lift_limits(strava)
    budget_reset()
    daily_state(connections)
    strava.requests.clear()
    garmin.requests.clear()
    google.requests.clear()
    count = Counter(provider for _gym, _pk, provider, _user in connections)
    print(
        f"\n1. Full daily sync: {len(connections)} connections ({count[Provider.STRAVA]} Strava, "
        f"{count[Provider.GARMIN]} Garmin, {count[Provider.GOOGLE_HEALTH]} Google Health) of "
        f"{args.clients} clients in {args.gyms} gyms, {args.workers} workers"
    )
    began = time.perf_counter()
    failed, reasons = sync_all(connections, args.workers)
    syncs = time.perf_counter() - began
    deliveries, delivering = garmin_deliver(garmin)
    wall = syncs + delivering
    total, missing, extra = lost_and_doubled(connections, strava, garmin, google)
    print(f"   wall time:            {wall:.1f} s  ({len(connections) / wall:.0f} connections/s)")
    print(f"     syncs:              {syncs:.1f} s")
    print(f"     Garmin pushes:      {delivering:.1f} s ({deliveries} deliveries to our webhook)")
    print(
        f"   Strava API requests:  {api_requests(strava, '/api/v3/')} "
        f"(OAuth refreshes: {strava.refreshes})"
    )
    print(f"   Garmin API requests:  {api_requests(garmin, '/wellness-api/')}")
    print(
        f"   Google Health API requests: {api_requests(google, '/v4/')} "
        f"(its limit: {google.limit_per_minute} a minute per user)"
    )
    print(f"   failed syncs:         {len(failed)} {dict(reasons) or ''}")
    print(f"   activities stored:    {total - missing} of {total}")
    print(f"   lost updates:         {missing} (target 0)")
    print(f"   doubled updates:      {extra} (target 0)")
    return not failed and missing == 0 and extra == 0


def with_429s(
    connections: list[tuple[Gym, int, str, str]],
    strava: FakeStrava,
    garmin: FakeGarmin,
    google: FakeGoogleHealth,
    args: argparse.Namespace,
) -> bool:
    lift_limits(strava)
    budget_reset()
    daily_state(connections)
    strava_only = [c for c in connections if c[2] == Provider.STRAVA]
    add_activities(strava_only, strava, garmin, google, 1)  # something new since part 1
    strava.requests.clear()
    strava.fail_rate = args.fail_rate
    strava.failures = 0
    pending = list(strava_only)
    print(
        f"\n2. The Strava syncs again with {args.fail_rate:.0%} of Strava's answers a 429 "
        "(a 429 blocks every gym until the window turns; each round is a window that turned)"
    )
    rounds, began = 0, time.perf_counter()
    while pending and rounds < 10_000:
        rounds += 1
        budget_reset()
        pending, _reasons = sync_all(pending, args.workers, stop_on_limit=True)
    strava.fail_rate = 0.0
    wall = time.perf_counter() - began
    total, missing, extra = lost_and_doubled(connections, strava, garmin, google)
    print(f"   rounds until all synced: {rounds} ({wall:.1f} s)")
    print(f"   429s answered:           {strava.failures}")
    print(f"   Strava API requests:     {api_requests(strava, '/api/v3/')}")
    print(f"   never synced:            {len(pending)}")
    print(f"   lost updates:            {missing} of {total} (target 0)")
    print(f"   doubled updates:         {extra} (target 0)")
    return not pending and missing == 0 and extra == 0


def strava_budget(
    connections: list[tuple[Gym, int, str, str]],
    strava: FakeStrava,
    args: argparse.Namespace,
) -> None:
    strava_connections = [c for c in connections if c[2] == Provider.STRAVA]
    settings.STRAVA_RATE_LIMIT_15MIN = STRAVA_READS_15MIN
    settings.STRAVA_RATE_LIMIT_DAILY = STRAVA_READS_DAILY
    strava.limit_15min, strava.limit_daily = STRAVA_READS_15MIN, STRAVA_READS_DAILY
    strava.usage = [0, 0]
    strava.requests.clear()
    daily_state(connections)
    # Simulated time for the shared budget: midnight UTC, then window after window.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = [today.timestamp() + 1]
    real_time = budget.time
    budget.time = SimpleNamespace(time=lambda: clock[0])  # type: ignore[assignment]
    print(
        f"\n3. Strava's read budget ({STRAVA_READS_15MIN} / 15 min, {STRAVA_READS_DAILY:,} / day "
        f"for the whole application): the {len(strava_connections)} Strava syncs in simulated time"
    )
    try:
        budget_reset()
        pending, windows, day_one = list(strava_connections), 0, None
        while pending and windows < 4 * 24 * 7:
            windows += 1
            pending, _reasons = sync_all(pending, args.workers, stop_on_limit=True)
            # The window turns: Strava's 15-minute count starts again (its daily one at midnight).
            day = clock[0] // 86400
            clock[0] = (clock[0] // budget.WINDOW_SECONDS + 1) * budget.WINDOW_SECONDS + 1
            strava.usage[0] = 0
            if clock[0] // 86400 != day:
                strava.usage[1] = 0
                if day_one is None:
                    day_one = len(strava_connections) - len(pending)
            # The new window's counter starts from nothing (an earlier run may have left one).
            with schema_context(get_public_schema_name()):
                short_key, _day_key, blocked_key = budget._keys(Provider.STRAVA, clock[0])
                cache.delete_many([short_key, blocked_key])
    finally:
        budget.time = real_time
    requests = api_requests(strava, "/api/v3/")
    per_sync = requests / max(1, len(strava_connections))
    hours = windows * budget.WINDOW_SECONDS / 3600
    day_one = len(strava_connections) - len(pending) if day_one is None else day_one
    webhook_reads = len(strava_connections) * args.activities
    print(f"   requests for a full sync:   {requests:,} ({per_sync:.2f} a connection)")
    print(f"   15-minute windows needed:   {windows} ({hours:.1f} h of simulated time)")
    print(f"   synced within the first day: {day_one} of {len(strava_connections)}")
    print(f"   never synced (a week):      {len(pending)}")
    print(
        f"   webhook reads on top:       {webhook_reads:,} a day "
        f"({args.activities} new activities a client, one GET each)"
    )
    fits_poll = requests <= STRAVA_READS_DAILY
    fits_all = requests + webhook_reads <= STRAVA_READS_DAILY
    print(
        f"   fits the daily budget:      polling alone {'yes' if fits_poll else 'NO'} "
        f"({requests:,} of {STRAVA_READS_DAILY:,}); with the webhooks' reads "
        f"{'yes' if fits_all else 'NO'} ({requests + webhook_reads:,} of {STRAVA_READS_DAILY:,})"
    )
    largest = STRAVA_READS_DAILY // max(1, args.activities)
    print(
        f"   finding: Strava's budget is per application, not per gym: webhooks alone "
        f"({args.activities} reads a client a day) serve at most {largest:,} clients across all "
        "gyms; a daily poll of every connection is a fallback that cannot run on top of them"
        if not fits_all
        else "   finding: a daily poll fits next to the webhooks at this size"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--gyms", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--activities", type=int, default=2)
    parser.add_argument("--garmin-share", type=float, default=0.5)
    parser.add_argument("--google-share", type=float, default=0.3)
    parser.add_argument("--fail-rate", type=float, default=0.05)
    parser.add_argument("--parts", type=int, nargs="+", choices=(1, 2, 3), default=[1, 2, 3])
    parser.add_argument("--keep", action="store_true", help="keep the gyms for the next run")
    args = parser.parse_args()

    strava = FlakyStrava(
        client_id=STRAVA_ID,
        client_secret=STRAVA_SECRET,
        limit_15min=UNLIMITED,
        limit_daily=UNLIMITED,
    ).start()
    garmin = FakeGarmin(client_id=GARMIN_ID, client_secret=GARMIN_SECRET).start()
    google = FakeGoogleHealth(client_id=GOOGLE_ID, client_secret=GOOGLE_SECRET).start()
    for name, value in {
        "STRAVA_CLIENT_ID": STRAVA_ID,
        "STRAVA_CLIENT_SECRET": STRAVA_SECRET,
        "STRAVA_BASE_URL": strava.url,
        **garmin.settings,
        **google.settings(),
    }.items():
        setattr(settings, name, value)
    began = time.perf_counter()
    gyms = gyms_ready(args.gyms)
    print(f"{len(gyms)} gyms ready in {time.perf_counter() - began:.1f} s")
    ok = False
    try:
        connections = connect_all(gyms, strava, garmin, google, args)
        add_activities(connections, strava, garmin, google, args.activities)
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        ok = True
        if 1 in args.parts:
            ok = throughput(connections, strava, garmin, google, args)
        if 2 in args.parts:
            ok = with_429s(connections, strava, garmin, google, args) and ok
        if 3 in args.parts:
            strava_budget(connections, strava, args)
    finally:
        strava.stop()
        garmin.stop()
        google.stop()
        budget_reset()
        if not args.keep:
            cleanup(gyms)
        db.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
