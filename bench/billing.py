"""Billing under load, two parts.

1. Webhooks: --events signed Stripe events, stamped one second apart in the order Stripe
   would create them (a tenth of them delivered a second time, all shuffled so updates
   arrive before creates), POSTed to /integrations/stripe/webhook/ through Django's request
   handler; prints the endpoint's p50/p95 (target p95 under 50 ms). Then one worker (one
   process, one event at a time, as a Celery worker with concurrency 1) processes what was
   stored: `--worker tasks` (the default) as the endpoint's tasks do, one event each in the
   order they arrived; `--worker backlog` as a worker catching up, in batches in Stripe's
   order. An event newer than any applied about its object is applied from its own copy,
   an older one reads the object back from Stripe (localstripe behind the Connect fake,
   both on loopback). Prints events processed per second (target at least 100), how many
   were read back, and the duplicate effects: memberships, payments and audit events beyond
   one per Stripe object (must be 0).
2. The credit race: a client with --credits class credits books --bookings different classes
   at the same moment on --workers connections; exactly --credits bookings succeed and the
   credits end at 0. Prints class_book p50/p95 (target p95 under 100 ms).

    .venv/bin/python bench/billing.py [--events 2000] [--subscriptions 100]
        [--bookings 200] [--credits 5] [--workers 32] [--worker tasks|backlog]

Uses DATABASE_URL (or the embedded PostgreSQL) and works in a gym of its own
("bench-billing"), dropped at the end. Needs localstripe (a dev dependency). Set
BENCH_PROFILE=<file> for a cProfile of the worker. Run it on a quiet machine (note the load
average): every figure here is CPU-bound.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
WEBHOOK_SECRET = "whsec_bench_" + "b" * 24
os.environ["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
os.environ["STRIPE_TEST_SECRET_KEY"] = "sk_test_bench"
os.environ["STRIPE_MODE"] = "connect"
os.environ["STRIPE_LIVE_MODE"] = "false"

import django

django.setup()

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.billing import services as billing
from apps.billing import stripe_gateway
from apps.billing.models import CreditGrant, CreditKind, Membership, Payment
from apps.connect.models import ConnectedAccount, StripeEvent, StripeEventStatus
from apps.connect.services import stripe_event_process, stripe_events_process_pending
from apps.crm.models import Client
from apps.scheduling.classes.services import class_book, class_cancel
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from tests.billing.conftest import TEST_CARD, event_payload, sign
from tests.fakes.stripe_connect import FakeStripeConnect

SUBDOMAIN = "bench-billing"
OWNER = "owner@bench-billing.example"
PASSWORD = "bench mark pass phrase"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def cleanup() -> None:
    connection.set_schema_to_public()
    for gym in Gym.objects.filter(subdomain=SUBDOMAIN):
        ConnectedAccount.objects.filter(gym=gym).delete()
        StripeEvent.objects.filter(gym=gym).delete()
        gym.delete(force_drop=True)
    StripeEvent.objects.filter(account="acct_bench").delete()


def start_stripe() -> tuple[Any, FakeStripeConnect]:
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    executable = Path(sys.executable).parent / "localstripe"
    process = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("localstripe did not start") from None
            time.sleep(0.1)
    fake = FakeStripeConnect(upstream=f"http://127.0.0.1:{port}").start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_CONNECT_API_BASE = fake.url
    return process, fake


def webhooks(gym: Gym, owner: User, fake: FakeStripeConnect, args: argparse.Namespace) -> bool:
    account = fake.account_create()
    ConnectedAccount.objects.create(gym=gym, account_id=account["id"])
    gateway = stripe_gateway.gym_client(gym)
    _, price_id = stripe_gateway.catalogue_item_push(
        gym=gym, name="Bench unlimited", amount=5000, currency="GBP", interval="month"
    )
    with tenant_context(gym):
        plan = billing.plan_create(
            actor=owner, name="Bench unlimited", price=5000, stripe_price_id=price_id
        )
        clients = Client.objects.bulk_create(
            Client(first_name="Payer", last_name=str(i), email=f"payer{i}@bench.example")
            for i in range(args.subscriptions)
        )
    connection.set_schema_to_public()
    print(f"Creating {args.subscriptions} subscriptions at localstripe...")
    objects: list[tuple[str, dict[str, Any]]] = []
    for client in clients:
        customer = gateway.v1.customers.create({"email": client.email, "source": TEST_CARD})
        subscription = gateway.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": price_id}],
                "metadata": {"client": str(client.pk), "plan": str(plan.pk)},
            }
        ).to_dict()
        invoice = gateway.v1.invoices.retrieve(subscription["latest_invoice"]).to_dict()
        objects.append(("customer.subscription.created", subscription))
        objects.append(("invoice.paid", invoice))
    # Events as Stripe sends them over a subscription's life: created, many updates, invoices.
    kinds = ("customer.subscription.updated", "invoice.paid", "invoice.payment_failed")
    rng = random.Random(42)
    originals = args.events - args.events // 10
    picked = list(objects)
    while len(picked) < originals:
        kind = rng.choice(kinds)
        subscription_event = kind.startswith("customer")
        pool = [obj for k, obj in objects if k.startswith("customer") == subscription_event]
        picked.append((kind, rng.choice(pool)))
    # Stripe stamps each event when it happens: one a second here, in the order generated
    # (the deliveries below are shuffled, so they arrive out of that order).
    first = int(time.time()) - originals
    unique: list[dict[str, Any]] = [
        event_payload(kind, obj, account=account["id"], created=first + i)
        for i, (kind, obj) in enumerate(picked[:originals])
    ]
    deliveries = unique + rng.sample(unique, args.events - originals)
    rng.shuffle(deliveries)

    from apps.connect import tasks

    # The endpoint only stores and queues: the queueing is measured apart, by the worker.
    tasks.stripe_event_process_task.delay = lambda *a, **k: None  # type: ignore[method-assign]
    http = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    bodies = [json.dumps(payload).encode() for payload in deliveries]
    for body in bodies[:20]:  # warm-up: code paths and the connection
        http.post(
            "/integrations/stripe/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, secret=WEBHOOK_SECRET),
        )
    StripeEvent.objects.filter(account=account["id"]).delete()
    fake.requests.clear()
    latencies = []
    began = time.perf_counter()
    for body in bodies:
        header = sign(body, secret=WEBHOOK_SECRET)
        started = time.perf_counter()
        response = http.post(
            "/integrations/stripe/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    endpoint_wall = time.perf_counter() - began
    print(
        f"webhook endpoint: {len(bodies)} deliveries ({len(bodies) - originals} duplicates): "
        f"p50={statistics.median(latencies):.1f} ms  p95={percentile(latencies, 95):.1f} ms  "
        f"max={max(latencies):.1f} ms  ({len(bodies) / endpoint_wall:.0f} requests/s)"
    )

    reads_before = len([call for call in fake.requests if call[0] == "GET"])
    pending = list(
        StripeEvent.objects.filter(account=account["id"], status=StripeEventStatus.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def work() -> None:
        if args.worker == "tasks":
            # As Celery runs the endpoint's tasks: one per event, in the order they arrived.
            for pk in pending:
                stripe_event_process(event_pk=pk)
        else:
            # A worker catching up with the backlog: read in batches, in Stripe's order.
            stripe_events_process_pending()

    began, cpu_began = time.perf_counter(), time.process_time()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("work()", globals(), {"work": work}, os.environ["BENCH_PROFILE"])
    else:
        work()
    process_wall = time.perf_counter() - began
    # This process's CPU per event: steadier than the rate when others share the machine.
    process_cpu_ms = (time.process_time() - cpu_began) * 1000 / max(1, len(pending))
    reads = len([call for call in fake.requests if call[0] == "GET"]) - reads_before
    statuses = dict.fromkeys(StripeEventStatus.values, 0)
    for status in StripeEvent.objects.filter(account=account["id"]).values_list(
        "status", flat=True
    ):
        statuses[status] += 1
    with tenant_context(gym):
        memberships = Membership.objects.count()
        payments = Payment.objects.count()
        created_audits = AuditEvent.objects.filter(action="membership.created_from_stripe").count()
    duplicate_effects = (
        max(0, memberships - args.subscriptions)
        + max(0, payments - args.subscriptions)
        + max(0, created_audits - args.subscriptions)
        + max(0, sum(statuses.values()) - originals)
    )
    print(
        f"one worker ({args.worker}): {len(pending)} events in {process_wall:.2f} s = "
        f"{len(pending) / process_wall:.0f} events/s, {process_cpu_ms:.1f} ms CPU each, "
        f"{reads} read back from Stripe  "
        f"(statuses {statuses})"
    )
    print(
        f"effects: {memberships} memberships, {payments} payments for {args.subscriptions} "
        f"subscriptions; duplicate effects = {duplicate_effects}"
    )
    return duplicate_effects == 0 and statuses[StripeEventStatus.FAILED] == 0


def credit_race(gym: Gym, owner: User, args: argparse.Namespace) -> bool:
    with tenant_context(gym):
        billing.billing_settings_update(actor=owner, memberships_required=True)
        pack = billing.pack_create(
            actor=owner,
            name="Bench pack",
            kind=CreditKind.CLASS,
            credits=args.credits,
            price=1000,
        )
        client = Client.objects.create(first_name="Racing", last_name="Client")
        billing.pack_sell(actor=owner, client=client, pack=pack, payment_kind="offline_cash")
        class_type = ClassType.objects.create(name="Bench class")
        starts = timezone.now() + timedelta(days=3)
        # Warm-up, as a running server is warm: one booking by someone else, and its cancel,
        # load the code, templates and notification paths the race's first bookings would.
        other = Client.objects.create(first_name="Warm", last_name="Up")
        billing.pack_sell(actor=owner, client=other, pack=pack, payment_kind="offline_cash")
        warm_class = ClassOccurrence.objects.create(
            class_type=class_type,
            starts_at=starts - timedelta(hours=2),
            ends_at=starts - timedelta(hours=1),
            capacity=10,
        )
        class_cancel(
            actor=owner, booking=class_book(actor=owner, occurrence=warm_class, client=other)
        )
        occurrences = ClassOccurrence.objects.bulk_create(
            ClassOccurrence(
                class_type=class_type,
                starts_at=starts + timedelta(minutes=61 * i),
                ends_at=starts + timedelta(minutes=61 * i + 60),
                capacity=10,
            )
            for i in range(args.bookings)
        )
    connection.close()
    ready = threading.Barrier(args.workers)

    def warm(_: int) -> None:
        with tenant_context(gym):
            CreditGrant.objects.filter(client=client).exists()
        ready.wait()

    def book(occurrence: ClassOccurrence) -> tuple[float, bool]:
        with tenant_context(gym):
            started = time.perf_counter()
            try:
                class_book(actor=owner, occurrence=occurrence, client=client)
                ok = True
            except ValidationError:
                ok = False
            return (time.perf_counter() - started) * 1000, ok

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(warm, range(args.workers)))
        began = time.perf_counter()
        results = list(pool.map(book, occurrences))
        wall = time.perf_counter() - began
    with tenant_context(gym):
        booked = ClassBooking.objects.filter(
            client=client, status=ClassBookingStatus.BOOKED
        ).count()
        left = sum(CreditGrant.objects.filter(client=client).values_list("remaining", flat=True))
    ms = [latency for latency, _ in results]
    print(
        f"credit race: {args.bookings} bookings for {args.credits} credits on {args.workers} "
        f"connections: booked={booked} credits left={left}"
    )
    print(
        f"class_book latency: p50={statistics.median(ms):.1f} ms  p95={percentile(ms, 95):.1f} "
        f"ms  max={max(ms):.1f} ms  (wall {wall:.2f} s)"
    )
    return booked == args.credits and left == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--credits", type=int, default=5)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument(
        "--worker",
        choices=("tasks", "backlog"),
        default="tasks",
        help="tasks: one event at a time in arrival order, as the endpoint's Celery tasks; "
        "backlog: the catch-up of stored events, in batches and in Stripe's order",
    )
    args = parser.parse_args()

    call_command("migrate", interactive=False, verbosity=0)
    cleanup()
    gym = gym_create(
        name="Bench billing", subdomain=SUBDOMAIN, owner_email=OWNER, owner_password=PASSWORD
    )
    localstripe, fake = start_stripe()
    ok = False
    try:
        with tenant_context(gym):
            owner = User.objects.get(email=OWNER)
        connection.set_schema_to_public()
        ok = webhooks(gym, owner, fake, args) if args.events else True  # --events 0: race only
        ok = credit_race(gym, owner, args) and ok
    finally:
        fake.stop()
        localstripe.terminate()
        connection.close()
        cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
