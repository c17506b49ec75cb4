"""Latency and throughput of the client list API next to a bare Django view.

Seeds 10,000 clients in one gym, starts the production server (gunicorn with uvicorn workers)
on loopback and loads, one after the other in the same run:
  - GET /api/v1/clients/?page_size=50 (authenticated owner, full middleware stack);
  - GET /health/live on the same gym host (a minimal view returning fixed JSON).
Each at concurrency 32 for 20 s with wrk (Debian package `wrk`, installed when missing).
Prints p50, p95, p99 latency and requests per second for each, and the throughput ratio.

    .venv/bin/python bench/api_latency.py [--clients 10000] [--seconds 20] [--concurrency 32]

Targets on a 2-core machine: p95 under 30 ms and at least 50% of the bare view's throughput.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.crm.models import Assignment, Client, ClientStatus, Trainer
from apps.tenants.models import Gym
from apps.tenants.services import gym_create

SUBDOMAIN = "bench-api"
HOST = f"{SUBDOMAIN}.localhost"
OWNER = "owner@bench-api.example"
PASSWORD = "bench mark pass phrase"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50=%d p95=%d p99=%d\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def seed(count: int) -> tuple[Gym, str]:
    gym = Gym.objects.filter(subdomain=SUBDOMAIN).first()
    if gym is None:
        gym = gym_create(
            name="Bench API", subdomain=SUBDOMAIN, owner_email=OWNER, owner_password=PASSWORD
        )
    with tenant_context(gym):
        owner = User.objects.get(email=OWNER)
        existing = Client.objects.count()
        if existing < count:
            print(f"Seeding {count - existing} clients...", flush=True)
            trainers = list(Trainer.objects.all()[:5])
            for index in range(len(trainers), 5):
                user = User.objects.create_user(
                    email=f"coach{index}@bench-api.example", role="trainer", first_name="Coach"
                )
                trainers.append(Trainer.objects.create(user=user))
            statuses = list(ClientStatus.values)
            batch = [
                Client(
                    first_name=f"First{index}",
                    last_name=f"Last{index:05d}",
                    email=f"client{index}@bench.example",
                    phone=f"+44 7700 {index:06d}",
                    status=statuses[index % len(statuses)],
                    tags=["bench", ("morning", "evening")[index % 2]],
                    goals="Get stronger",
                )
                for index in range(existing, count)
            ]
            created = Client.objects.bulk_create(batch, batch_size=1000)
            Assignment.objects.bulk_create(
                [
                    Assignment(client=client, trainer=trainers[i % 5], is_primary=True)
                    for i, client in enumerate(created)
                ],
                batch_size=1000,
            )
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = "apps.accounts.backends.ModelBackend"
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
        return gym, session.session_key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("Installing wrk (Debian package)...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fitnesscrm.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 50),
        "SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "LOG_LEVEL": "WARNING",
        # Never refused, but over one second: DRF keeps each user's request times for the
        # rate's period, so the history stays as long as production's (600/min: 600 entries)
        # instead of growing with every request of the run.
        "THROTTLE_RATE_USER": "100000000/sec",
        "THROTTLE_RATE_ANON": "100000000/sec",
        "CONN_MAX_AGE": "60",
        # As in production: the cache (sessions, throttles) is Redis.
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    if "DATABASE_URL" not in env:
        db = settings.DATABASES["default"]
        env["DATABASE_URL"] = f"postgres://{db['USER']}@/{db['NAME']}?host={db['HOST']}"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "fitnesscrm.asgi:application",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        # As the Procfile: each worker its own listening socket.
        "--reuse-port",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/health/live", headers={"Host": HOST}
            )
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not start")


def load(wrk: str, url: str, headers: dict[str, str], seconds: int, concurrency: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    args = [wrk, "-t2", f"-c{concurrency}", f"-d{seconds}s", "-s", script.name, "--timeout", "5s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    match = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) errors=(\d+) p50=(\d+) p95=(\d+) p99=(\d+)",
        output,
    )
    if not match:
        raise SystemExit(output)
    requests, duration, errors, p50, p95, p99 = map(int, match.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": requests / (duration / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _gym, session_key = seed(args.clients)
    wrk = ensure_wrk()
    port = free_port()
    server = start_server(port, args.workers)
    headers = {"Host": HOST, "Cookie": f"sessionid={session_key}"}
    base = f"http://127.0.0.1:{port}"
    try:
        # Warm up both paths (connections, caches) before measuring.
        load(wrk, f"{base}/api/v1/clients/?page_size=50", headers, 3, args.concurrency)
        load(wrk, f"{base}/health/live", headers, 3, args.concurrency)
        api = load(
            wrk, f"{base}/api/v1/clients/?page_size=50", headers, args.seconds, args.concurrency
        )
        bare = load(wrk, f"{base}/health/live", headers, args.seconds, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    print(
        f"{args.clients} clients, concurrency {args.concurrency}, {args.seconds} s each, "
        f"gunicorn + {args.workers} uvicorn workers, {os.cpu_count()} cores"
    )
    for label, result in (("GET /api/v1/clients/?page_size=50", api), ("bare JSON view", bare)):
        print(
            f"{label:<36} p50={result['p50']:.1f} ms  p95={result['p95']:.1f} ms  "
            f"p99={result['p99']:.1f} ms  {result['rps']:.0f} req/s  "
            f"errors={result['errors']}"
        )
    print(f"throughput ratio (API / bare): {api['rps'] / bare['rps']:.0%}")


if __name__ == "__main__":
    main()
