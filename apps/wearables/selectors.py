"""Reads of apps.wearables, with the precedence that keeps totals from counting twice.

Precedence: when two connections of a client report the same day and kind, the row from the
connection with the lowest `Connection.precedence` wins; a connection without one ranks by
DEFAULT_PRECEDENCE for that kind (devices worn all day before phone apps, food diaries for
nutrition). Rows of a provider the client has no connection to any more keep its default rank.
Outside workouts are separate sessions, not daily totals: every one is listed."""

from __future__ import annotations

from datetime import date

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from apps.wearables.models import (
    KIND_MODELS,
    Connection,
    DataKind,
    ExternalWorkout,
    Provider,
)

# Lower wins, per kind.
DEFAULT_PRECEDENCE: dict[str, list[str]] = {
    DataKind.ACTIVITY: [
        Provider.GARMIN,
        Provider.GOOGLE_HEALTH,
        Provider.APPLE_HEALTH,
        Provider.STRAVA,
    ],
    DataKind.HEART_RATE: [Provider.GARMIN, Provider.GOOGLE_HEALTH, Provider.APPLE_HEALTH],
    DataKind.SLEEP: [Provider.GARMIN, Provider.GOOGLE_HEALTH, Provider.APPLE_HEALTH],
    DataKind.NUTRITION: [Provider.MYFITNESSPAL, Provider.APPLE_HEALTH, Provider.GOOGLE_HEALTH],
}
# Explicit precedences (1, 2...) always beat defaults.
_DEFAULT_OFFSET = 1000


def _default_rank(kind: str) -> Case:
    order = DEFAULT_PRECEDENCE.get(kind, [])
    return Case(
        *[
            When(provider=provider, then=Value(_DEFAULT_OFFSET + i))
            for i, provider in enumerate(order)
        ],
        default=Value(_DEFAULT_OFFSET + len(order)),
        output_field=IntegerField(),
    )


def daily_rows(*, client_id: int, kind: str, start: date, end: date) -> QuerySet:
    """One row per day from `start` to `end` (inclusive) for a daily kind: the winning source's."""
    model = KIND_MODELS[kind]
    chosen = Connection.objects.filter(
        client_id=OuterRef("client_id"), provider=OuterRef("provider")
    ).values("precedence")[:1]
    return (
        model.objects.filter(client_id=client_id, date__range=(start, end))
        .annotate(rank=Coalesce(Subquery(chosen), _default_rank(kind)))
        .order_by("date", "rank", "provider")
        .distinct("date")
    )


def workouts_for_client(*, client_id: int, start: date, end: date) -> QuerySet[ExternalWorkout]:
    return ExternalWorkout.objects.filter(client_id=client_id, date__range=(start, end)).order_by(
        "-start_at"
    )


def connections_for_client(*, client_id: int) -> QuerySet[Connection]:
    return Connection.objects.filter(client_id=client_id).order_by("provider")
