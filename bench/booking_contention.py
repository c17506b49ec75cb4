"""Capacity under load: N clients book one class of C spots at the same moment. Checks that
exactly C are booked and the rest waitlisted in arrival order, and prints p50/p95 latency of
`class_book` (target p95 under 100 ms).

The bookings run the way the web server runs them: in --processes worker processes (the web
process's uvicorn workers, WEB_CONCURRENCY, 2 by default), each with threads that keep their
own database connection between bookings, as the production connection pool does. --workers
is the number of database connections in all (the threads of all processes together). All
processes start booking at the same moment (a barrier).

    .venv/bin/python bench/booking_contention.py [--clients 200] [--capacity 20] [--workers 32]
        [--processes 2]

Uses DATABASE_URL (or the embedded PostgreSQL); works in a gym of its own ("bench-classes"),
which it drops at the end (audit events cannot be deleted, a dropped schema takes them along).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.crm.models import Client
from apps.scheduling.classes.services import class_book
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from apps.tenants.services import gym_create

SUBDOMAIN = "bench-classes"
OWNER = "owner@bench-classes.example"
PASSWORD = "bench mark pass phrase"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def cleanup() -> None:
    connection.set_schema_to_public()
    for gym in Gym.objects.filter(subdomain=SUBDOMAIN):
        gym.delete(force_drop=True)


def _book_in_process(
    gym: Gym,
    owner: User,
    occurrence: ClassOccurrence,
    clients: list[Client],
    threads: int,
    *,
    warm_up_class: ClassOccurrence,
    warm_up_clients: list[Client],
    barrier: Any,
    results: Any,
) -> None:
    """One worker process: its threads book their share of the clients, each thread through
    its own connection. Before the start, each thread books one warm-up client into another
    class, as a server that has been running has: connections open and in the gym's schema,
    code paths and caches warm. Only the bookings of the contended class are measured."""
    started_together = threading.Barrier(threads)

    def warm_up(index: int) -> None:
        with tenant_context(gym):
            class_book(actor=owner, occurrence=warm_up_class, client=warm_up_clients[index])
        started_together.wait()  # every thread takes one: one connection per thread

    def book(client: Client) -> float:
        with tenant_context(gym):
            started = time.perf_counter()
            class_book(actor=owner, occurrence=occurrence, client=client)
            return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Warm the threads and their connections, then wait for the other processes.
        list(pool.map(warm_up, range(threads)))
        barrier.wait()
        began = time.perf_counter()
        latencies = list(pool.map(book, clients))
        results.put((latencies, began, time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--capacity", type=int, default=20)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    call_command("migrate", interactive=False, verbosity=0)
    cleanup()
    gym = gym_create(
        name="Bench classes", subdomain=SUBDOMAIN, owner_email=OWNER, owner_password=PASSWORD
    )
    try:
        with tenant_context(gym):
            owner = User.objects.get(email=OWNER)
            class_type = ClassType.objects.create(name="Bench spin")
            starts_at = timezone.now() + timedelta(days=2)
            occurrence = ClassOccurrence.objects.create(
                class_type=class_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                capacity=args.capacity,
            )
            clients = Client.objects.bulk_create(
                Client(first_name="Bench", last_name=str(i)) for i in range(args.clients)
            )
            warm_up_class = ClassOccurrence.objects.create(
                class_type=class_type,
                starts_at=starts_at + timedelta(hours=2),
                ends_at=starts_at + timedelta(hours=3),
                capacity=args.workers,
            )
            warm_up_clients = Client.objects.bulk_create(
                Client(first_name="Warm-up", last_name=str(i)) for i in range(args.workers)
            )
        connection.close()

        print(
            f"{args.clients} clients, {args.capacity} spots, {args.workers} connections "
            f"in {args.processes} processes..."
        )
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(args.processes)
        results = context.Queue()
        threads = max(1, args.workers // args.processes)
        processes = [
            context.Process(
                target=_book_in_process,
                args=(gym, owner, occurrence, clients[index :: args.processes], threads),
                kwargs={
                    "barrier": barrier,
                    "results": results,
                    "warm_up_class": warm_up_class,
                    "warm_up_clients": warm_up_clients[index * threads : (index + 1) * threads],
                },
            )
            for index in range(args.processes)
        ]
        for process in processes:
            process.start()
        reports = [results.get() for _ in processes]
        for process in processes:
            process.join()
        latencies = [value for report in reports for value in report[0]]
        # perf_counter is the system's monotonic clock: comparable across processes.
        wall = max(report[2] for report in reports) - min(report[1] for report in reports)
        with tenant_context(gym):
            bookings = list(
                ClassBooking.objects.filter(occurrence=occurrence).order_by("created_at", "pk")
            )
        booked = sum(b.status == ClassBookingStatus.BOOKED for b in bookings)
        positions = [b.waitlist_position for b in bookings[args.capacity :]]
        in_order = positions == list(range(1, args.clients - args.capacity + 1))
        ms = [value * 1000 for value in latencies]
        print(
            f"booked={booked} waitlisted={len(bookings) - booked} "
            f"waitlist in arrival order={in_order}"
        )
        print(
            f"class_book latency: p50={statistics.median(ms):.1f} ms  "
            f"p95={percentile(ms, 95):.1f} ms  max={max(ms):.1f} ms  "
            f"(wall {wall:.2f} s, {args.clients / wall:.0f} bookings/s)"
        )
        ok = booked == args.capacity and in_order
    finally:
        connection.close()
        cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
