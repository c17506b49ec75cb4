"""How long creating a gym takes, with every app installed, three ways:
- 20 gyms taking a spare schema (cloned ahead of time; a periodic task keeps the pool full, so
  the bench fills it before timing each sign-up);
- 20 gyms cloned from the template schema at sign-up (the pool is empty);
- 5 gyms migrated from scratch (no template).
Prints median and p95 seconds per gym for each.

    .venv/bin/python bench/tenant_provisioning.py [--cloned 20] [--migrated 5]

Uses DATABASE_URL (or the embedded PostgreSQL) and removes every gym it made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from apps.tenants.models import Gym
from apps.tenants.services import gym_create, spare_schemas_refill

PASSWORD = "bench mark pass phrase"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def provision(prefix: str, count: int, *, spares: bool = False) -> list[float]:
    timings = []
    for i in range(count):
        if spares:
            spare_schemas_refill(target=1)  # the background task's job, not timed
        started = time.perf_counter()
        gym_create(
            name=f"Bench {prefix} {i}",
            subdomain=f"bench-{prefix}-{i}",
            owner_email=f"owner{i}@bench.example",
            owner_password=PASSWORD,
        )
        timings.append(time.perf_counter() - started)
        print(f"  {prefix} {i + 1}/{count}: {timings[-1]:.3f} s", flush=True)
    return timings


def cleanup() -> None:
    connection.set_schema_to_public()
    for gym in Gym.objects.filter(subdomain__startswith="bench-"):
        gym.delete(force_drop=True)


def report(label: str, timings: list[float]) -> None:
    print(
        f"{label:<26} n={len(timings):<3} median={statistics.median(timings):.3f} s  "
        f"p95={percentile(timings, 95):.3f} s  min={min(timings):.3f} s  max={max(timings):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cloned", type=int, default=20)
    parser.add_argument("--migrated", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", interactive=False, verbosity=0)
    cleanup()
    try:
        print("Creating gyms from spare schemas...")
        spared = provision("spare", args.cloned, spares=True)
        spare_schemas_refill(target=0)
        print("Creating gyms cloned from the template schema...")
        cloned = provision("clone", args.cloned)
        migrated: list[float] = []
        if args.migrated:
            print("Creating gyms by running every migration (no template)...")
            with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
                migrated = provision("migrate", args.migrated)
    finally:
        cleanup()
    print()
    report("spare schema renamed", spared)
    report("cloned from template", cloned)
    if migrated:
        report("migrated from scratch", migrated)
        speedup = statistics.median(migrated) / statistics.median(cloned)
        print(f"cloning is {speedup:.0f}x faster than migrating at the median")
    print("(each figure includes hashing the owner's password, about 0.2 s)")


if __name__ == "__main__":
    main()
