"""Reads of the booking policy: the gym's settings, a client's strikes and whether they are
blocked from booking.

A block is computed from the strikes, never stored: a client is blocked while some unwaived
strike is younger than `block_days` and, counting it, at least `strike_limit` unwaived strikes
fall within the `window_days` before it. Waiving a strike therefore lifts the block at once,
and strikes older than the window stop counting by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Assignment, Client
from apps.scheduling.models import PolicySettings, Strike


def policy_get() -> PolicySettings:
    """The gym's policy; the defaults (unsaved) until an owner or manager saves it."""
    return PolicySettings.objects.first() or PolicySettings()


@dataclass(frozen=True)
class BlockState:
    """Where a client stands: unwaived strikes inside the window, and until when they cannot
    book (None: they can)."""

    active_strikes: int
    strike_limit: int
    blocked_until: datetime | None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_until is not None


def _blocked_until(
    occurred: list[datetime], *, policy: PolicySettings, now: datetime
) -> datetime | None:
    window = timedelta(days=policy.window_days)
    block = timedelta(days=policy.block_days)
    until = None
    for index, moment in enumerate(occurred):  # oldest first
        if moment + block <= now:
            continue
        in_window = [m for m in occurred[: index + 1] if m > moment - window]
        if len(in_window) >= policy.strike_limit:
            until = moment + block
    return until


def client_block_state(
    *, client: Client, now: datetime | None = None, policy: PolicySettings | None = None
) -> BlockState:
    """The client's strikes and block at `now` (default: now). Two queries at most."""
    now = now or timezone.now()
    policy = policy or policy_get()
    since = now - timedelta(days=policy.window_days + policy.block_days)
    occurred = sorted(
        Strike.objects.filter(
            client=client, waived_at__isnull=True, occurred_at__gt=since, occurred_at__lte=now
        ).values_list("occurred_at", flat=True)
    )
    window_start = now - timedelta(days=policy.window_days)
    return BlockState(
        active_strikes=sum(1 for moment in occurred if moment > window_start),
        strike_limit=policy.strike_limit,
        blocked_until=_blocked_until(occurred, policy=policy, now=now),
    )


def strike_list(*, viewer: User, client: Client | None = None) -> QuerySet[Strike]:
    """Strikes `viewer` may see: owners, managers and the front desk all of them, a trainer
    those of their assigned clients, a client their own. Newest first."""
    strikes = Strike.objects.select_related(
        "client", "waived_by", "appointment", "class_booking__occurrence__class_type"
    )
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        pass
    elif has_role(viewer, Role.TRAINER):
        strikes = strikes.filter(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("client"), trainer__user=viewer, ends_on__isnull=True
                )
            )
        )
    elif has_role(viewer, Role.CLIENT):
        strikes = strikes.filter(client__user=viewer)
    else:
        return Strike.objects.none()
    if client is not None:
        strikes = strikes.filter(client=client)
    return strikes.order_by("-occurred_at", "-pk")


def blocked_clients(
    *, viewer: User, now: datetime | None = None, policy: PolicySettings | None = None
) -> list[tuple[Client, datetime]]:
    """The clients the viewer may see who cannot book now, with until when, soonest free
    first. One query, whatever the number of clients."""
    now = now or timezone.now()
    policy = policy or policy_get()
    since = now - timedelta(days=policy.window_days + policy.block_days)
    strikes = strike_list(viewer=viewer).filter(
        waived_at__isnull=True, occurred_at__gt=since, occurred_at__lte=now
    )
    by_client: dict[int, tuple[Client, list[datetime]]] = {}
    for strike in strikes.order_by("occurred_at", "pk"):
        by_client.setdefault(strike.client_id, (strike.client, []))[1].append(strike.occurred_at)
    blocked = []
    for client, occurred in by_client.values():
        until = _blocked_until(occurred, policy=policy, now=now)
        if until is not None:
            blocked.append((client, until))
    return sorted(blocked, key=lambda item: (item[1], item[0].pk))


def blocked_client_ids(*, client_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    """Which of `client_ids` cannot book now (waitlist promotion skips them). Two queries at
    most, whatever the number of clients."""
    ids = set(client_ids)
    if not ids:
        return set()
    now = now or timezone.now()
    occurred_by_client: dict[int, list[datetime]] = {}
    strikes = Strike.objects.filter(client_id__in=ids, waived_at__isnull=True, occurred_at__lte=now)
    if not strikes.exists():
        return set()
    policy = policy_get()
    since = now - timedelta(days=policy.window_days + policy.block_days)
    for client_id, moment in (
        strikes.filter(occurred_at__gt=since)
        .order_by("occurred_at", "pk")
        .values_list("client_id", "occurred_at")
    ):
        occurred_by_client.setdefault(client_id, []).append(moment)
    return {
        client_id
        for client_id, occurred in occurred_by_client.items()
        if _blocked_until(occurred, policy=policy, now=now) is not None
    }
