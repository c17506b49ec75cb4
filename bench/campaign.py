"""A campaign to --recipients clients into an SMTP sink on loopback (aiosmtpd), one worker.

1. Throughput: one worker process sends a whole campaign the way consecutive Celery tasks would
   (apps.campaigns.tasks.send_campaign: BATCH_SIZE x BATCHES_PER_TASK messages a task, then the
   next task) over Django's SMTP backend; prints emails per second (target at least 200), and
   the time to freeze the audience (one Delivery row per recipient) apart.
2. Kill and restart: a second campaign to the same audience; the worker is killed (SIGKILL, no
   chance to clean up) once --kill-after mails reached the sink, and a fresh worker finishes
   the campaign. Prints duplicates at the sink (target 0), recipients missing, and the rows the
   restarted worker found interrupted (the at-most-once window: at most one per killed worker;
   see apps/campaigns/services.py).

    .venv/bin/python bench/campaign.py [--recipients 10000] [--kill-after 4000]

Uses DATABASE_URL (or the embedded PostgreSQL) and works in a gym of its own
("bench-campaign"), dropped at the end. The per-gym rate limit is lifted for the run
(CAMPAIGN_SEND_RATE): what is measured is the sender, not the limit.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["CAMPAIGN_SEND_RATE"] = "1000000"

SUBDOMAIN = "bench-campaign"
OWNER = "owner@bench-campaign.example"
PASSWORD = "bench mark pass phrase"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<campaign-(\d+)\.client-(\d+)\.", re.I | re.M)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """An SMTP server on loopback that only counts: (campaign, client) per accepted message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = _free_port()
        self.received: Counter[tuple[int, int]] = Counter()
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                match = MESSAGE_ID.search(envelope.original_content or b"")
                with sink.lock:
                    key = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
                    sink.received[key] += 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def count(self, campaign_id: int) -> int:
        with self.lock:
            return sum(n for (c, _client), n in self.received.items() if c == campaign_id)

    def per_client(self, campaign_id: int) -> Counter[int]:
        with self.lock:
            return Counter(
                {client: n for (c, client), n in self.received.items() if c == campaign_id}
            )


def worker(schema: str, campaign_id: int) -> None:
    """One worker process: the campaign's send tasks, one after another, until none is left."""
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from apps.campaigns.services import BATCH_SIZE, BATCHES_PER_TASK, campaign_deliver

    with schema_context(schema):
        while True:
            result = campaign_deliver(
                campaign_id=campaign_id, max_messages=BATCH_SIZE * BATCHES_PER_TASK
            )
            print(f"task sent={result.sent} interrupted={result.interrupted}", flush=True)
            if result.interrupted:
                print(f"INTERRUPTED {result.interrupted}", flush=True)
            if not result.remaining or result.busy:
                break


def start_worker(schema: str, campaign_id: int, port: int) -> subprocess.Popen:
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}", "MARKETING_EMAIL_URL": ""}
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", schema, str(campaign_id)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--kill-after", type=int, default=4_000)
    parser.add_argument("--worker", nargs=2, metavar=("SCHEMA", "CAMPAIGN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.accounts.models import User
    from apps.campaigns import services
    from apps.campaigns.models import Campaign
    from apps.crm.models import Client, Consent, ConsentKind
    from apps.notifications.models import Delivery
    from apps.tenants.models import Gym
    from apps.tenants.services import gym_create

    def cleanup() -> None:
        connection.set_schema_to_public()
        for gym in Gym.objects.filter(subdomain=SUBDOMAIN):
            gym.delete(force_drop=True)

    call_command("migrate", interactive=False, verbosity=0)
    cleanup()
    gym = gym_create(
        name="Bench campaign", subdomain=SUBDOMAIN, owner_email=OWNER, owner_password=PASSWORD
    )
    sink = Sink()
    sink.controller.start()
    ok = False
    try:
        with tenant_context(gym):
            owner = User.objects.get(email=OWNER)
            clients = Client.objects.bulk_create(
                Client(first_name=f"Member{n}", last_name="Bench", email=f"m{n}@bench.example")
                for n in range(args.recipients)
            )
            now = timezone.now()
            Consent.objects.bulk_create(
                Consent(client=c, kind=ConsentKind.MARKETING_EMAIL, granted=True, recorded_at=now)
                for c in clients
            )
            segment = services.segment_create(actor=owner, name="Everyone", definition={})

            def campaign(name: str) -> Campaign:
                made = services.campaign_create(
                    actor=owner,
                    name=name,
                    channel="email",
                    segment=segment,
                    subject="Spring at {{ gym_name }}, {{ first_name }}",
                    body="Hi {{ first_name }},\n\nNew classes: https://example.com/classes\n\n"
                    "See you soon!",
                )
                made.status = "sending"
                made.started_at = timezone.now()
                made.save(update_fields=["status", "started_at"])
                return made

            # 1. Throughput.
            first = campaign("Throughput")
            began = time.perf_counter()
            services._materialise(first)
            frozen = time.perf_counter() - began
            began = time.perf_counter()
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            process = start_worker(gym.schema_name, first.pk, sink.port)
            process.wait()
            elapsed = time.perf_counter() - began
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            worker_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
                cpu_after.ru_stime - cpu_before.ru_stime
            )
            delivered = sink.count(first.pk)
            rate = delivered / elapsed
            print(f"audience frozen: {args.recipients} Delivery rows in {frozen:.2f} s")
            print(
                f"throughput: {delivered} emails in {elapsed:.1f} s = {rate:.0f} emails/s "
                f"(target >= 200); the worker used {worker_cpu:.1f} s of CPU = "
                f"{delivered / worker_cpu:.0f} emails per CPU-second; load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )

            # 2. Kill mid-send, restart.
            second = campaign("Kill and restart")
            services._materialise(second)
            process = start_worker(gym.schema_name, second.pk, sink.port)
            while sink.count(second.pk) < args.kill_after and process.poll() is None:
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            process.wait()
            at_kill = sink.count(second.pk)
            restarted = start_worker(gym.schema_name, second.pk, sink.port)
            output, _err = restarted.communicate()
            interrupted = sum(
                int(line.split()[1]) for line in output.splitlines() if line.startswith("INTER")
            )
            per_client = sink.per_client(second.pk)
            duplicates = sum(n - 1 for n in per_client.values() if n > 1)
            missing = args.recipients - len(per_client)
            statuses = Counter(
                Delivery.objects.filter(group_key=second.group_key).values_list("status", flat=True)
            )
            second.refresh_from_db()
            print(
                f"kill and restart: killed after {at_kill} mails; {sum(per_client.values())} "
                f"received for {len(per_client)} recipients; duplicates {duplicates} "
                f"(target 0); missing {missing}; interrupted rows {interrupted}; "
                f"statuses {dict(statuses)}; campaign {second.status}"
            )
            ok = rate >= 200 and duplicates == 0 and missing <= interrupted
    finally:
        sink.controller.stop()
        connection.close()
        cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
