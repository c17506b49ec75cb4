"""Reads of apps.wearables, with the precedence that keeps totals from counting twice.

Precedence: when two connections of a client report the same day and kind, the row from the
connection with the lowest `Connection.precedence` wins; a connection without one ranks by
DEFAULT_PRECEDENCE for that kind (devices worn all day before phone apps, food diaries for
nutrition). Rows of a provider the client has no connection to any more keep its default rank.
Outside workouts are separate sessions, not daily totals: every one is listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from apps.wearables.models import (
    KIND_MODELS,
    Connection,
    ConnectionStatus,
    DataKind,
    ExternalWorkout,
    NutritionTarget,
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


# --- What a client can connect ----------------------------------------------------------------

# The kinds each provider can share, in the order the connect card offers them. Apple Health's
# export and MyFitnessPal's CSV are uploads: what they hold is what they share.
PROVIDER_KINDS: dict[str, tuple[str, ...]] = {
    Provider.STRAVA: (DataKind.WORKOUTS,),
    Provider.GARMIN: (
        DataKind.ACTIVITY,
        DataKind.HEART_RATE,
        DataKind.SLEEP,
        DataKind.WORKOUTS,
        DataKind.BODY,
    ),
    Provider.GOOGLE_HEALTH: (
        DataKind.ACTIVITY,
        DataKind.HEART_RATE,
        DataKind.SLEEP,
        DataKind.WORKOUTS,
        DataKind.BODY,
        DataKind.NUTRITION,
    ),
    Provider.APPLE_HEALTH: (
        DataKind.ACTIVITY,
        DataKind.HEART_RATE,
        DataKind.SLEEP,
        DataKind.WORKOUTS,
        DataKind.BODY,
        DataKind.NUTRITION,
    ),
    Provider.MYFITNESSPAL: (DataKind.NUTRITION,),
}


@dataclass(frozen=True)
class ProviderOffer:
    """One provider the portal offers: where its connect (or upload) page is and what it shares.
    `oauth`: the page is a consent redirect that takes the chosen kinds as `?kind=`."""

    provider: str
    name: str
    url: str
    oauth: bool
    kinds: list[tuple[str, str]]


# Provider, the setting that switches it on ("" = always on), its portal URL name, OAuth or not.
_OFFERS: tuple[tuple[str, str, str, bool], ...] = (
    (Provider.STRAVA, "STRAVA_CLIENT_ID", "portal:activity_strava_connect", True),
    (Provider.GARMIN, "GARMIN_CLIENT_ID", "portal:activity_garmin_connect", True),
    (
        Provider.GOOGLE_HEALTH,
        "GOOGLE_HEALTH_CLIENT_ID",
        "portal:activity_google_health_connect",
        True,
    ),
    (Provider.APPLE_HEALTH, "", "portal:activity_apple_health", False),
    (Provider.MYFITNESSPAL, "", "portal:activity_myfitnesspal", False),
)


def available_providers() -> list[ProviderOffer]:
    """The providers a client of this installation can connect: OAuth ones whose client id is
    configured, the upload ones always. A provider whose pages are not installed is left out
    rather than linking to a 404."""
    labels = dict(DataKind.choices)
    offers = []
    for provider, setting, url_name, oauth in _OFFERS:
        if setting and not getattr(settings, setting, ""):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        offers.append(
            ProviderOffer(
                provider=provider,
                name=str(Provider(provider).label),
                url=url,
                oauth=oauth,
                kinds=[(kind, str(labels[kind])) for kind in PROVIDER_KINDS[provider]],
            )
        )
    return offers


# --- Trends for charts ------------------------------------------------------------------------

CHART_RANGES = (30, 90)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def nutrition_target_for(*, client_id: int) -> NutritionTarget | None:
    return NutritionTarget.objects.filter(client_id=client_id).first()


def _calories_against_target(
    *, client_id: int, start: date, end: date
) -> tuple[dict[date, int | None], int | None]:
    """Each day's calories (the winning source's) and the calorie target, if one is set. Through
    MyFitnessPal's intake reader where it is installed, so intake is computed in one place."""
    try:
        from apps.wearables.providers.myfitnesspal.selectors import intake_against_targets
    except ImportError:
        target = nutrition_target_for(client_id=client_id)
        rows = daily_rows(client_id=client_id, kind=DataKind.NUTRITION, start=start, end=end)
        return (
            {row.date: row.calories_kcal for row in rows},
            target.calories_kcal if target else None,
        )
    days = intake_against_targets(client_id=client_id, start=start, end=end)
    goal = next((d["nutrients"]["calories_kcal"]["target"] for d in days), None)
    return {d["date"]: d["calories_kcal"] for d in days}, goal


def _sleep_hours(session: Any) -> float:
    minutes = session.asleep_minutes
    if minutes is None:
        minutes = (session.end_at - session.start_at).total_seconds() / 60
    return round(minutes / 60, 1)


def activity_trends(*, client_id: int, start: date, end: date) -> dict[str, Any]:
    """Steps, sleep (hours), resting heart rate and calories eaten (against the target) per day
    from `start` to `end`, one source per day and kind (precedence), for the charts: labels
    and, per chart, its series (None where nothing was recorded). Five queries whatever the
    range; `summary` holds each chart's average over the recorded days and the latest value."""
    labels = _days(start, end)
    steps = {
        row.date: row.steps
        for row in daily_rows(client_id=client_id, kind=DataKind.ACTIVITY, start=start, end=end)
    }
    sleep = {
        row.date: _sleep_hours(row)
        for row in daily_rows(client_id=client_id, kind=DataKind.SLEEP, start=start, end=end)
    }
    resting = {
        row.date: row.resting_bpm
        for row in daily_rows(client_id=client_id, kind=DataKind.HEART_RATE, start=start, end=end)
    }
    calories, calorie_target = _calories_against_target(client_id=client_id, start=start, end=end)

    def series(values: dict[date, Any]) -> list[Any]:
        return [values.get(day) for day in labels]

    def summary(values: dict[date, Any]) -> dict[str, Any]:
        recorded = [v for v in (values.get(day) for day in labels) if v is not None]
        return {
            "average": round(sum(recorded) / len(recorded), 1) if recorded else None,
            "latest": recorded[-1] if recorded else None,
            "days": len(recorded),
        }

    charts: dict[str, Any] = {
        "steps": {"type": "bar", "label": str(_("Steps")), "unit": ""},
        "sleep": {"type": "bar", "label": str(_("Sleep")), "unit": str(_("hours"))},
        "resting_hr": {"type": "line", "label": str(_("Resting heart rate")), "unit": "bpm"},
        "nutrition": {"type": "bar", "label": str(_("Calories eaten")), "unit": "kcal"},
    }
    charts["steps"]["values"] = series(steps)
    charts["sleep"]["values"] = series(sleep)
    charts["resting_hr"]["values"] = series(resting)
    charts["nutrition"]["values"] = series(calories)
    if calorie_target:
        charts["nutrition"]["target"] = calorie_target
        charts["nutrition"]["target_label"] = str(_("Target"))
    return {
        "labels": [day.isoformat() for day in labels],
        "charts": charts,
        "summary": {
            "steps": summary(steps),
            "sleep": summary(sleep),
            "resting_hr": summary(resting),
            "nutrition": {**summary(calories), "target": calorie_target},
        },
        "has_data": bool(steps or sleep or resting or calories),
    }


def training_adherence(*, client_id: int, today: date) -> dict[int, Any]:
    """The client's adherence to scheduled workouts over 30 and 90 days, counted as
    apps.workouts counts it (metrics.adherence), in one query."""
    from apps.training.models import ScheduledWorkout, ScheduledWorkoutStatus
    from apps.workouts.metrics import adherence

    longest = max(CHART_RANGES)
    rows = list(
        ScheduledWorkout.objects.filter(
            client_id=client_id, date__range=(today - timedelta(days=longest - 1), today)
        ).values_list("date", "status")
    )
    result = {}
    for days in CHART_RANGES:
        since = today - timedelta(days=days - 1)
        window = [status for day, status in rows if day >= since]
        result[days] = adherence(
            completed=sum(1 for s in window if s == ScheduledWorkoutStatus.COMPLETED),
            scheduled=len(window),
        )
    return result


def workout_totals(*, client_id: int, start: date, end: date) -> dict[str, Any]:
    """How many outside workouts from `start` to `end`, their minutes and kilometres: one query."""
    totals = ExternalWorkout.objects.filter(
        client_id=client_id, date__range=(start, end)
    ).aggregate(count=Count("pk"), seconds=Sum("duration_seconds"), metres=Sum("distance_m"))
    return {
        "count": totals["count"],
        "minutes": round((totals["seconds"] or 0) / 60),
        "distance_km": round(float(totals["metres"] or 0) / 1000, 1),
    }


# --- Sync status ------------------------------------------------------------------------------


def connection_overview(*, failing: bool = False) -> QuerySet[Connection]:
    """Every connection of the gym with its client, for the sync overview: failing ones first,
    then the longest unsynced; `failing` keeps only those whose sync fails."""
    connections = Connection.objects.select_related("client").order_by(
        Case(When(status=ConnectionStatus.ERROR, then=Value(0)), default=Value(1)),
        F("last_sync_at").asc(nulls_first=True),
        "pk",
    )
    if failing:
        connections = connections.filter(status=ConnectionStatus.ERROR)
    return connections


def connection_counts() -> dict[str, int]:
    counts = dict(
        Connection.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ConnectionStatus.values}
