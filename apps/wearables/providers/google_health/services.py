"""Writes for Fitbit and Pixel data through the Google Health API.

A client connects from the portal: Google's consent with PKCE (the verifier waits in the cache,
apps.wearables.providers.pkce), the redirect lands on the public host, the tokens are stored
encrypted with the user's healthUserId, which goes into the public lookup so notifications find
the gym; a 30-day backfill follows on Celery. Notifications name a user, a data type and time
windows; each is routed to every gym that connected the user and processed there by pulling the
named type for the named window as it is now. So a notification delivered twice, late or out of
order changes nothing more than one delivered once.

Daily kinds (activity, nutrition) come from dailyRollUp, whose days are the user's own civil
days; their rows' provider_id is that day (ISO), so a re-pull updates in place. Sleep and
exercise sessions are keyed by their data point's id; body weight and fat go to progress."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.tenants.models import Gym
from apps.wearables.integrations import google_health as api
from apps.wearables.integrations.errors import AccessRevokedError
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    DataKind,
    ExternalWorkout,
    HeartRateDay,
    NutritionDay,
    Provider,
    SleepSession,
)
from apps.wearables.providers.pkce import pkce_start
from apps.wearables.routing.models import WearableAccount
from apps.wearables.services import (
    BACKFILL_DAYS,
    ConnectRefusedError,
    InvalidRecordError,
    body_measurement_from_provider,
    connection_access_token,
    connection_revoked,
    connection_store_granted,
    sync_succeeded,
)
from apps.wearables.timezones import offset_zone

logger = logging.getLogger(__name__)

PROVIDER = Provider.GOOGLE_HEALTH
# The scope area each kind of data needs (read-only); profile is always asked for.
KIND_AREAS: dict[str, str] = {
    DataKind.ACTIVITY: "activity_and_fitness",
    DataKind.WORKOUTS: "activity_and_fitness",
    DataKind.HEART_RATE: "health_metrics_and_measurements",
    DataKind.BODY: "health_metrics_and_measurements",
    DataKind.SLEEP: "sleep",
    DataKind.NUTRITION: "nutrition",
}
KINDS = tuple(KIND_AREAS)
# Google's data types and the kind each one feeds (what a notification names).
TYPE_KINDS: dict[str, str] = {
    "steps": DataKind.ACTIVITY,
    "distance": DataKind.ACTIVITY,
    "active-zone-minutes": DataKind.ACTIVITY,
    "total-calories": DataKind.ACTIVITY,
    "daily-resting-heart-rate": DataKind.HEART_RATE,
    "time-in-heart-rate-zone": DataKind.HEART_RATE,
    "sleep": DataKind.SLEEP,
    "exercise": DataKind.WORKOUTS,
    "weight": DataKind.BODY,
    "body-fat": DataKind.BODY,
    "nutrition-log": DataKind.NUTRITION,
    "hydration-log": DataKind.NUTRITION,
}
# How far a notification's window may reach (older changes come with the scheduled pull).
MAX_WINDOW_DAYS = 31
MAX_NOTIFICATIONS = 99
HEALTH_USER_ID = re.compile(r"[A-Za-z0-9-]{1,63}")
SYNC_OVERLAP = timedelta(days=1)
STAGE_FIELDS = {
    "DEEP": "deep_minutes",
    "LIGHT": "light_minutes",
    "REM": "rem_minutes",
    "AWAKE": "awake_minutes",
}


class NotificationInvalidError(ValueError):
    """A webhook body that is not what Google sends; the message names the field."""


# --- Connecting -------------------------------------------------------------------------------


def scopes_for(kinds: Iterable[str]) -> list[str]:
    areas = {KIND_AREAS[kind] for kind in kinds if kind in KIND_AREAS} | {"profile"}
    return sorted(api.scope(area) for area in areas)


def google_health_authorize_url(
    *, gym: Gym, client_id: int, user_id: int, kinds: list[str], redirect_uri: str
) -> str:
    """Google's consent page for this client and the kinds they chose (all if none), with a
    signed state naming the gym and an S256 challenge whose verifier stays in the cache."""
    kinds = [kind for kind in kinds if kind in KIND_AREAS] or list(KINDS)
    state, challenge = pkce_start(
        gym=gym, client_id=client_id, user_id=user_id, kinds=kinds, provider=PROVIDER
    )
    return api.authorize_url(
        redirect_uri=redirect_uri, state=state, scopes=scopes_for(kinds), code_challenge=challenge
    )


def granted_kinds(*, kinds: Iterable[str], granted: str) -> list[str]:
    """The chosen kinds whose scope the user granted (Google lets them untick some)."""
    granted_scopes = set(granted.split())
    return [
        kind
        for kind in kinds
        if kind in KIND_AREAS and api.scope(KIND_AREAS[kind]) in granted_scopes
    ]


def google_health_connect(
    *,
    gym: Gym,
    client_id: int,
    user_id: int,
    kinds: list[str],
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> Connection:
    """Exchange the code (with the PKCE verifier), store the tokens encrypted, register the
    healthUserId in the public lookup and queue the 30-day backfill."""
    try:
        token = api.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    except api.ProviderError as error:
        raise ConnectRefusedError(str(error)) from error
    shared = granted_kinds(kinds=kinds, granted=str(token.get("scope") or ""))
    if not shared:
        raise ConnectRefusedError("none of the chosen kinds' scopes granted")
    if not token.get("refresh_token"):
        raise ConnectRefusedError("no refresh token (offline access not granted)")
    try:
        health_user = api.health_user_id(access_token=token["access_token"])
    except api.ProviderError as error:
        raise ConnectRefusedError(str(error)) from error

    def backfill(connection_pk: int) -> None:
        from apps.wearables.providers.google_health.tasks import google_health_backfill_task

        google_health_backfill_task.delay(connection_pk)

    return connection_store_granted(
        gym=gym,
        client_id=client_id,
        user_id=user_id,
        provider=PROVIDER,
        provider_user_id=health_user,
        kinds=shared,
        scopes=" ".join(sorted(set(str(token.get("scope") or "").split()))),
        token=token,
        backfill=backfill,
    )


# --- Calls as the user ------------------------------------------------------------------------


class _Session:
    """A connection's token, refreshed once when Google answers 401 to tell an expired token
    from revoked access; a 401 with a fresh token means the access is gone."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.token = connection_access_token(connection_id=connection.pk)

    def run(self, call: Any) -> Any:
        try:
            return call(self.token)
        except AccessRevokedError:
            self.token = connection_access_token(
                connection_id=self.connection.pk, force_refresh=True
            )
            try:
                return call(self.token)
            except AccessRevokedError:
                connection_revoked(
                    connection_id=self.connection.pk, reason="access refused by Google"
                )
                raise

    def points(self, data_type: str, filter_expression: str) -> list[dict[str, Any]]:
        return self.run(
            lambda token: list(
                api.data_points(
                    access_token=token,
                    user=self.connection.provider_user_id,
                    data_type=data_type,
                    filter_expression=filter_expression,
                )
            )
        )

    def rollup(self, data_type: str, start: date, end: date) -> list[dict[str, Any]]:
        return self.run(
            lambda token: list(
                api.daily_rollup(
                    access_token=token,
                    user=self.connection.provider_user_id,
                    data_type=data_type,
                    start=start,
                    end=end,
                )
            )
        )


# --- Checking and mapping values -------------------------------------------------------------


def _number(value: Any, *, field: str, maximum: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise InvalidRecordError(f"{field}: not a number: {value!r}") from error
    if not 0 <= number <= maximum:
        raise InvalidRecordError(f"{field}: out of range: {value!r}")
    return number


def _civil_day(civil: Any) -> date:
    try:
        parts = civil["date"]
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidRecordError(f"bad civil date: {civil!r}") from error


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidRecordError(f"bad time: {value!r}") from error
    if moment.tzinfo is None:
        raise InvalidRecordError(f"time without offset: {value!r}")
    return moment


def _not_future(day: date) -> None:
    if day > timezone.now().date() + timedelta(days=1):
        raise InvalidRecordError(f"{day} is in the future")


def _device(point: dict[str, Any]) -> str:
    source = point.get("dataSource") or {}
    device = source.get("device") or {}
    return str(device.get("displayName") or source.get("platform") or "Fitbit")[:64]


def _offset_zone(offset: Any) -> str:
    """Google gives the user's UTC offset as a duration ("3600s"), not their zone."""
    try:
        return offset_zone(int(str(offset).removesuffix("s")))
    except ValueError:
        return ""


def _point_id(point: dict[str, Any]) -> str:
    name = str(point.get("name") or "")
    point_id = name.rsplit("/", 1)[-1]
    if not point_id or len(point_id) > 64:
        raise InvalidRecordError(f"bad data point name: {name!r}")
    return point_id


# --- Pulling each kind ------------------------------------------------------------------------


def _path(*keys: str) -> Any:
    """A reader of a roll-up value's nested field: _path("energy", "kcalSum")."""

    def read(value: dict[str, Any]) -> Any:
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return read


def _sum_of(*keys: str) -> Any:
    def read(value: dict[str, Any]) -> Any:
        present = [value[key] for key in keys if value.get(key) not in (None, "")]
        try:
            return sum(float(number) for number in present) if present else None
        except (TypeError, ValueError) as error:
            raise InvalidRecordError(f"not a number in {keys}") from error

    return read


def _nutrient(name: str) -> Any:
    def read(value: dict[str, Any]) -> Any:
        for item in value.get("nutrients") or []:
            if isinstance(item, dict) and item.get("nutrient") == name:
                return (item.get("quantity") or {}).get("gramsSum")
        return None

    return read


def _zone_minutes(zone: str) -> Any:
    def read(value: dict[str, Any]) -> Any:
        for item in value.get("timeInHeartRateZones") or []:
            if isinstance(item, dict) and item.get("heartRateZone") == zone:
                try:
                    return float(str(item.get("duration") or "0s").removesuffix("s")) / 60
                except ValueError as error:
                    raise InvalidRecordError(f"bad duration: {item.get('duration')!r}") from error
        return None

    return read


# Each daily kind's fields from Google's daily roll-ups: (data type, our field, reader of the
# roll-up value, maximum in the field's unit, divisor to the field's unit, decimal?).
ACTIVITY_ROLLUPS = (
    ("steps", "steps", _path("countSum"), 200_000, 1, False),
    ("distance", "distance_m", _path("millimetersSum"), 1_000_000, 1000, False),
    (
        "active-zone-minutes",
        "active_minutes",
        _sum_of("sumInFatBurnHeartZone", "sumInCardioHeartZone", "sumInPeakHeartZone"),
        1440,
        1,
        False,
    ),
    ("total-calories", "calories_kcal", _path("kcalSum"), 50_000, 1, False),
)
NUTRITION_ROLLUPS = (
    ("nutrition-log", "calories_kcal", _path("energy", "kcalSum"), 50_000, 1, False),
    ("nutrition-log", "protein_g", _nutrient("PROTEIN"), 5000, 1, True),
    ("nutrition-log", "carbohydrate_g", _path("totalCarbohydrate", "gramsSum"), 5000, 1, True),
    ("nutrition-log", "fat_g", _path("totalFat", "gramsSum"), 5000, 1, True),
    ("hydration-log", "water_ml", _path("amountConsumed", "millilitersSum"), 30_000, 1, False),
)
# Google has four zones; ours are five, lowest first: the fifth stays empty.
ZONE_ROLLUPS = tuple(
    ("time-in-heart-rate-zone", f"zone_{number}_minutes", _zone_minutes(zone), 1440, 1, False)
    for number, zone in enumerate(("LIGHT", "MODERATE", "VIGOROUS", "PEAK"), start=1)
)


def _rollup_days(
    session: _Session, start: date, end: date, readers: tuple
) -> dict[date, dict[str, Any]]:
    """The fields of each civil day from [start, end] that Google's roll-ups give, checked."""
    first, stop = start, min(end, timezone.now().date() + timedelta(days=1)) + timedelta(days=1)
    days: dict[date, dict[str, Any]] = {}
    fetched: dict[str, list[dict[str, Any]]] = {}
    for data_type, field, read, maximum, divisor, decimal in readers:
        if data_type not in fetched:
            # Several fields come from one roll-up: it is fetched once.
            fetched[data_type] = session.rollup(data_type, first, stop)
        for point in fetched[data_type]:
            try:
                day = _civil_day(point.get("civilStartTime"))
                _not_future(day)
                raw = read(point.get(api_field(data_type)) or {})
                number = _number(raw, field=field, maximum=maximum * divisor)
            except InvalidRecordError as error:
                logger.info("Google Health %s skipped: %s", data_type, error)
                continue
            if number is None:
                continue
            number /= divisor
            days.setdefault(day, {})[field] = (
                Decimal(str(number)).quantize(Decimal("0.1")) if decimal else round(number)
            )
    return days


def _store_days(session: _Session, model: Any, days: dict[date, dict[str, Any]]) -> int:
    for day, fields in days.items():
        model.objects.update_or_create(
            client_id=session.connection.client_id,
            provider=PROVIDER,
            provider_id=day.isoformat(),
            defaults={"date": day, "device": fields.pop("device", "Fitbit"), **fields},
        )
    return len(days)


def _pull_activity(session: _Session, start: date, end: date) -> int:
    return _store_days(session, DailyActivity, _rollup_days(session, start, end, ACTIVITY_ROLLUPS))


def _pull_nutrition(session: _Session, start: date, end: date) -> int:
    return _store_days(session, NutritionDay, _rollup_days(session, start, end, NUTRITION_ROLLUPS))


def _pull_heart_rate(session: _Session, start: date, end: date) -> int:
    """Resting heart rate (a daily data point) and minutes per zone (a daily roll-up)."""
    days = _rollup_days(session, start, end, ZONE_ROLLUPS)
    stop = end + timedelta(days=1)
    points = session.points(
        "daily-resting-heart-rate",
        f'daily_resting_heart_rate.date >= "{start.isoformat()}" '
        f'AND daily_resting_heart_rate.date < "{stop.isoformat()}"',
    )
    for point in points:
        value = point.get("dailyRestingHeartRate") or {}
        try:
            day = _civil_day(value)
            _not_future(day)
            bpm = _number(value.get("beatsPerMinute"), field="resting_bpm", maximum=250)
            if bpm is None or bpm < 20:
                raise InvalidRecordError(f"resting heart rate out of range: {bpm}")
        except InvalidRecordError as error:
            logger.info("Google Health resting heart rate skipped: %s", error)
            continue
        days.setdefault(day, {}).update(resting_bpm=round(bpm), device=_device(point))
    return _store_days(session, HeartRateDay, days)


def _interval_filter(field: str, start: datetime, end: datetime) -> str:
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return (
        f'{field}.interval.start_time >= "{stamp(start)}" '
        f'AND {field}.interval.start_time < "{stamp(end)}"'
    )


def sleep_fields(point: dict[str, Any]) -> dict[str, Any]:
    """SleepSession's fields for a sleep data point (stages summed per type), checked."""
    value = point.get("sleep") or {}
    interval = value.get("interval") or {}
    start_at, end_at = _moment(interval.get("startTime")), _moment(interval.get("endTime"))
    if not start_at < end_at <= timezone.now() + timedelta(hours=1):
        raise InvalidRecordError("sleep ends before it starts or in the future")
    if end_at - start_at > timedelta(hours=24):
        raise InvalidRecordError("sleep longer than a day")
    stages: dict[str, float] = {}
    for stage in value.get("stages") or []:
        field = STAGE_FIELDS.get(str(stage.get("type") or "").upper())
        if field is None:
            continue
        seconds = (_moment(stage.get("endTime")) - _moment(stage.get("startTime"))).total_seconds()
        if seconds < 0:
            raise InvalidRecordError("a stage ends before it starts")
        stages[field] = stages.get(field, 0) + seconds / 60
    summary = value.get("summary") or {}
    asleep = _number(summary.get("minutesAsleep"), field="minutesAsleep", maximum=1440)
    if asleep is None and stages:
        asleep = sum(m for f, m in stages.items() if f != "awake_minutes")
    civil_end = interval.get("civilEndTime")
    day = _civil_day(civil_end) if civil_end else end_at.date()
    return {
        "date": day,
        "start_at": start_at,
        "end_at": end_at,
        "asleep_minutes": None if asleep is None else round(asleep),
        **{field: round(minutes) for field, minutes in stages.items()},
        "time_zone": _offset_zone(interval.get("endUtcOffset")),
        "device": _device(point),
    }


def exercise_fields(point: dict[str, Any]) -> dict[str, Any]:
    """ExternalWorkout's fields for an exercise data point, checked."""
    value = point.get("exercise") or {}
    interval = value.get("interval") or {}
    start_at, end_at = _moment(interval.get("startTime")), _moment(interval.get("endTime"))
    if not start_at <= end_at <= timezone.now() + timedelta(hours=1):
        raise InvalidRecordError("exercise ends before it starts or in the future")
    duration = round((end_at - start_at).total_seconds())
    if duration > 7 * 24 * 3600:
        raise InvalidRecordError("exercise longer than a week")
    metrics = value.get("metricsSummary") or {}

    def metres(key: str, maximum: int) -> Decimal | None:
        number = _number(metrics.get(key), field=key, maximum=maximum * 1000)
        return None if number is None else Decimal(str(number / 1000)).quantize(Decimal("0.1"))

    def bpm(key: str) -> int | None:
        number = _number(metrics.get(key), field=key, maximum=250)
        return round(number) if number and number >= 20 else None

    active = str(value.get("activeDuration") or "").removesuffix("s")
    calories = _number(metrics.get("caloriesKcal"), field="caloriesKcal", maximum=50_000)
    civil_start = interval.get("civilStartTime")
    try:
        moving = round(float(active)) if active else None
    except ValueError as error:
        raise InvalidRecordError(f"bad activeDuration: {active!r}") from error
    return {
        "sport": str(value.get("exerciseType") or "WORKOUT").replace("_", " ").title()[:32],
        "name": str(value.get("displayName") or "")[:120],
        "start_at": start_at,
        "date": _civil_day(civil_start) if civil_start else start_at.date(),
        "duration_seconds": duration,
        "moving_seconds": moving if moving is None or 0 <= moving <= duration else None,
        "distance_m": metres("distanceMillimeters", 10_000_000),
        "elevation_gain_m": metres("elevationGainMillimeters", 100_000),
        "average_heart_rate": bpm("averageHeartRateBeatsPerMinute"),
        "max_heart_rate": bpm("maxHeartRateBeatsPerMinute"),
        "calories_kcal": round(calories) if calories else None,
        "time_zone": _offset_zone(interval.get("startUtcOffset")),
        "device": _device(point),
    }


def _pull_sessions(
    session: _Session, *, data_type: str, model: Any, fields: Any, start: datetime, end: datetime
) -> int:
    """Store every session starting in [start, end) and delete ours there that Google no longer
    has: the window is made to match Google's, whatever was notified before."""
    points = session.points(data_type, _interval_filter(api_field(data_type), start, end))
    client_id = session.connection.client_id
    seen: set[str] = set()
    for point in points:
        try:
            point_id = _point_id(point)
            values = fields(point)
        except InvalidRecordError as error:
            logger.info("Google Health %s skipped: %s", data_type, error)
            continue
        model.objects.update_or_create(
            client_id=client_id, provider=PROVIDER, provider_id=point_id, defaults=values
        )
        seen.add(point_id)
    model.objects.filter(
        client_id=client_id, provider=PROVIDER, start_at__gte=start, start_at__lt=end
    ).exclude(provider_id__in=seen).delete()
    return len(seen)


def _pull_body(session: _Session, start: datetime, end: datetime) -> int:
    stored = 0
    for data_type, field, kwarg, scale in (
        ("weight", "weightGrams", "weight_kg", Decimal(1000)),
        ("body-fat", "percentage", "body_fat_percent", Decimal(1)),
    ):
        points = session.points(
            data_type,
            f'{api_field(data_type)}.sample_time.physical_time >= "{_stamp(start)}" '
            f'AND {api_field(data_type)}.sample_time.physical_time < "{_stamp(end)}"',
        )
        for point in points:
            value = point.get(api_field(data_type)) or {}
            try:
                measured_at = _moment((value.get("sampleTime") or {}).get("physicalTime"))
                number = (Decimal(str(value.get(field))) / scale).quantize(Decimal("0.1"))
                body_measurement_from_provider(
                    client_id=session.connection.client_id,
                    provider=PROVIDER,
                    measured_at=measured_at,
                    **{kwarg: number},
                )
            except (InvalidRecordError, InvalidOperation) as error:
                logger.info("Google Health %s skipped: %s", data_type, error)
                continue
            stored += 1
    return stored


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_field(data_type: str) -> str:
    """The DataPoint's union field for a data type: daily-resting-heart-rate ->
    dailyRestingHeartRate."""
    head, *rest = data_type.split("-")
    return head + "".join(part.title() for part in rest)


def _pull(session: _Session, kind: str, start: datetime, end: datetime) -> int:
    if kind == DataKind.ACTIVITY:
        return _pull_activity(session, start.date(), end.date())
    if kind == DataKind.NUTRITION:
        return _pull_nutrition(session, start.date(), end.date())
    if kind == DataKind.HEART_RATE:
        return _pull_heart_rate(session, start.date(), end.date())
    if kind == DataKind.SLEEP:
        return _pull_sessions(
            session,
            data_type="sleep",
            model=SleepSession,
            fields=sleep_fields,
            start=start,
            end=end,
        )
    if kind == DataKind.WORKOUTS:
        return _pull_sessions(
            session,
            data_type="exercise",
            model=ExternalWorkout,
            fields=exercise_fields,
            start=start,
            end=end,
        )
    if kind == DataKind.BODY:
        return _pull_body(session, start, end)
    return 0


def google_health_pull(
    *, connection_id: int, start: datetime, end: datetime, kinds: Iterable[str] | None = None
) -> int:
    """Pull the connection's kinds (or those of `kinds` it shares) for [start, end) as Google
    has them now; returns how many days, sessions and readings were stored."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.status == ConnectionStatus.DISCONNECTED:
        return 0
    wanted = [k for k in connection.kind_list if kinds is None or k in set(kinds)]
    if not wanted:
        return 0
    session = _Session(connection)
    stored = sum(_pull(session, kind, start, end) for kind in wanted)
    sync_succeeded(connection_id=connection_id)
    return stored


def google_health_backfill(*, connection_id: int, days: int = BACKFILL_DAYS) -> int:
    now = timezone.now()
    return google_health_pull(
        connection_id=connection_id, start=now - timedelta(days=days), end=now + timedelta(hours=1)
    )


def sync(*, connection_id: int) -> int:
    """Pull everything since the last sync (a day's overlap: late uploads from the watch)."""
    connection = Connection.objects.get(pk=connection_id)
    now = timezone.now()
    since = (connection.last_sync_at or now - timedelta(days=BACKFILL_DAYS)) - SYNC_OVERLAP
    since = max(since, now - timedelta(days=BACKFILL_DAYS))
    return google_health_pull(
        connection_id=connection_id, start=since, end=now + timedelta(hours=1)
    )


# --- The webhook ------------------------------------------------------------------------------


def webhook_authorized(*, authorization: str) -> bool:
    """Whether a delivery's Authorization header carries our subscriber secret."""
    secret = settings.GOOGLE_HEALTH_WEBHOOK_SECRET
    if not secret or not authorization:
        return False
    candidates = {secret, f"Bearer {secret}"}
    return any(
        hmac.compare_digest(authorization.encode(), candidate.encode()) for candidate in candidates
    )


def notification_read(item: Any, index: int) -> dict[str, Any]:
    """One notification of a delivery, checked: healthUserId, dataType, operation and its
    windows as (start, end) ISO strings. NotificationInvalidError names the bad field."""
    where = f"[{index}]"
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict):
        raise NotificationInvalidError(f"{where}.data: an object is required")
    user = data.get("healthUserId")
    if not isinstance(user, str) or not HEALTH_USER_ID.fullmatch(user):
        raise NotificationInvalidError(
            f"{where}.data.healthUserId: 1 to 63 letters, digits or hyphens required"
        )
    data_type = data.get("dataType")
    if not isinstance(data_type, str) or not data_type:
        raise NotificationInvalidError(f"{where}.data.dataType: required")
    operation = str(data.get("operation") or "UPSERT").upper()
    if operation not in ("UPSERT", "DELETE"):
        raise NotificationInvalidError(f"{where}.data.operation: UPSERT or DELETE")
    intervals = data.get("intervals")
    if not isinstance(intervals, list) or not intervals:
        raise NotificationInvalidError(f"{where}.data.intervals: a non-empty list is required")
    windows = []
    for number, interval in enumerate(intervals):
        physical = (
            (interval or {}).get("physicalTimeInterval") if isinstance(interval, dict) else None
        )
        try:
            start = _moment((physical or {}).get("startTime"))
            end = _moment((physical or {}).get("endTime"))
        except InvalidRecordError as error:
            raise NotificationInvalidError(
                f"{where}.data.intervals[{number}].physicalTimeInterval: {error}"
            ) from error
        if end < start:
            raise NotificationInvalidError(
                f"{where}.data.intervals[{number}].physicalTimeInterval: ends before it starts"
            )
        windows.append((start.isoformat(), end.isoformat()))
    return {"user": user, "data_type": data_type, "operation": operation, "windows": windows}


def notifications_receive(*, body: Any) -> int:
    """Route a delivery (a JSON array of notifications) to every gym that connected each user
    and queue its processing there; returns how many were queued. Quick: no call to Google."""
    if not isinstance(body, list) or not 1 <= len(body) <= MAX_NOTIFICATIONS:
        raise NotificationInvalidError(f"body: a list of 1 to {MAX_NOTIFICATIONS} notifications")
    notifications = [notification_read(item, index) for index, item in enumerate(body)]
    from apps.wearables.providers.google_health.tasks import google_health_notification_task

    queued = 0
    users = {n["user"] for n in notifications}
    accounts = list(
        WearableAccount.objects.filter(
            provider=PROVIDER, provider_user_id__in=users
        ).select_related("gym")
    )
    for notification in notifications:
        if notification["data_type"] not in TYPE_KINDS:
            continue
        for account in accounts:
            if account.provider_user_id != notification["user"]:
                continue
            with tenant_context(account.gym):
                # Sent from the gym's schema, so the task runs there (tenant_schemas_celery).
                google_health_notification_task.delay(account.connection_id, notification)
            queued += 1
    return queued


def notification_process(*, connection_id: int, notification: dict[str, Any]) -> str:
    """Pull the notified type's kind for the notified windows, as Google has it now (a day
    either side for daily kinds, whose days are the user's civil days)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.provider_user_id != notification.get("user"):
        return "unknown connection"
    if connection.status == ConnectionStatus.DISCONNECTED:
        return "disconnected"
    kind = TYPE_KINDS.get(str(notification.get("data_type")))
    if kind is None or kind not in connection.kind_list:
        return "not shared"
    now = timezone.now()
    oldest = now - timedelta(days=MAX_WINDOW_DAYS)
    stored = 0
    session = _Session(connection)
    for start_text, end_text in notification.get("windows") or []:
        start = max(datetime.fromisoformat(start_text), oldest)
        end = min(datetime.fromisoformat(end_text), now + timedelta(hours=1))
        if end < start:
            continue
        if kind in (DataKind.ACTIVITY, DataKind.NUTRITION, DataKind.HEART_RATE):
            start, end = start - timedelta(days=1), end + timedelta(days=1)
        else:
            # A session that changed overlaps the window; it may have started before it.
            start, end = start - timedelta(hours=24), end + timedelta(seconds=1)
        stored += _pull(session, kind, start, end)
    sync_succeeded(connection_id=connection_id)
    return f"stored {stored}"
