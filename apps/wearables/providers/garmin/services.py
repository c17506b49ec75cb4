"""Writes for Garmin Connect.

Connecting: the client picks the kinds of data in the portal; Garmin's consent page (OAuth 2
with PKCE, providers.pkce) sends them back to the public host; the tokens are stored encrypted,
the Garmin userId goes into the public lookup (WearableAccount) and a 30-day backfill is asked
for. Garmin has no scopes: the user ticks HEALTH_EXPORT / ACTIVITY_EXPORT on its page, which
`Connection.scopes` keeps (comma-separated); a kind is stored only if the client chose it and
Garmin permits it.

Deliveries: Garmin POSTs summaries to one webhook for every gym (push: the summaries; ping: a
callbackURL to GET with the user's token), plus deregistrations and permission changes. The
webhook checks the garmin-client-id header, routes each item by userId and answers at once;
Celery does the rest in the gym (tasks.py). Every summary is stored by its summaryId. A day's
summary is re-sent as the watch syncs more of the day, sometimes under a new summaryId: there is
one DailyActivity and HeartRateDay row per day, and a version with fewer steps (an older one,
arriving late) never replaces the stored one. Sleeps likewise keep one row per night."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.tenants.models import Gym
from apps.wearables.integrations import garmin
from apps.wearables.integrations.errors import AccessRevokedError, ProviderError
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    DataKind,
    ExternalWorkout,
    HeartRateDay,
    Provider,
    SleepSession,
)
from apps.wearables.providers.pkce import pkce_start
from apps.wearables.routing.models import WearableAccount
from apps.wearables.services import (
    BACKFILL_DAYS,
    ConnectRefusedError,
    InvalidRecordError,
    _decimal,
    _heart_rate,
    body_measurement_from_provider,
    connection_access_token,
    connection_revoked,
    connection_store_granted,
    sync_succeeded,
)
from apps.wearables.timezones import offset_zone

logger = logging.getLogger(__name__)
T = TypeVar("T")

GARMIN_KINDS = (
    DataKind.ACTIVITY,
    DataKind.HEART_RATE,
    DataKind.SLEEP,
    DataKind.WORKOUTS,
    DataKind.BODY,
)
# What each of Garmin's permissions lets us read.
PERMISSION_KINDS = {
    "HEALTH_EXPORT": {DataKind.ACTIVITY, DataKind.HEART_RATE, DataKind.SLEEP, DataKind.BODY},
    "ACTIVITY_EXPORT": {DataKind.WORKOUTS},
}
# The pushed summary types we store, and the kinds each one feeds.
SUMMARY_KINDS: dict[str, set[str]] = {
    "dailies": {DataKind.ACTIVITY, DataKind.HEART_RATE},
    "sleeps": {DataKind.SLEEP},
    "activities": {DataKind.WORKOUTS},
    "manuallyUpdatedActivities": {DataKind.WORKOUTS},
    "bodyComps": {DataKind.BODY},
}
NOTICE_TYPES = ("deregistrations", "userPermissionsChange")
# Which summary types a backfill asks for, per kind.
KIND_BACKFILL = {
    DataKind.ACTIVITY: "dailies",
    DataKind.HEART_RATE: "dailies",
    DataKind.SLEEP: "sleeps",
    DataKind.WORKOUTS: "activities",
    DataKind.BODY: "bodyComps",
}
# A sync asks again for a day before the last one, so a day that was still filling is re-sent.
SYNC_OVERLAP = timedelta(days=1)


# --- Connecting -------------------------------------------------------------------------------


def garmin_kinds(kinds: list[str]) -> list[str]:
    """The Garmin kinds among those chosen (all of them if none is)."""
    chosen = [kind for kind in GARMIN_KINDS if kind in kinds]
    return chosen or list(GARMIN_KINDS)


def garmin_authorize_url(
    *, gym: Gym, client_id: int, user_id: int, kinds: list[str], redirect_uri: str
) -> str:
    """Garmin's consent page for this client, with a signed state (the gym, the client, the kinds
    and the PKCE nonce) and the S256 challenge."""
    state, challenge = pkce_start(
        gym=gym,
        client_id=client_id,
        user_id=user_id,
        kinds=garmin_kinds(kinds),
        provider=Provider.GARMIN,
    )
    return garmin.authorize_url(redirect_uri=redirect_uri, state=state, code_challenge=challenge)


def _permitted(permissions: list[str]) -> set[str]:
    return {kind for p in permissions for kind in PERMISSION_KINDS.get(p, ())}


def garmin_connect(
    *,
    gym: Gym,
    client_id: int,
    user_id: int,
    kinds: list[str],
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> Connection:
    """Exchange the code (with the PKCE verifier), learn the Garmin userId and permissions, store
    the tokens encrypted, register the userId in the public lookup and ask for 30 days."""
    kinds = garmin_kinds(kinds)
    try:
        token = garmin.exchange_code(
            code=code, code_verifier=code_verifier, redirect_uri=redirect_uri
        )
        garmin_user = garmin.user_id(access_token=token["access_token"])
        permissions = garmin.user_permissions(access_token=token["access_token"])
    except ProviderError as error:
        raise ConnectRefusedError(str(error)) from error
    if not _permitted(permissions) & set(kinds):
        raise ConnectRefusedError("nothing shared on Garmin's consent page")
    end = int(timezone.now().timestamp())
    start = end - BACKFILL_DAYS * 24 * 3600

    def backfill(connection_pk: int) -> None:
        from apps.wearables.providers.garmin.tasks import garmin_backfill_task

        garmin_backfill_task.delay(connection_pk, start, end)

    return connection_store_granted(
        gym=gym,
        client_id=client_id,
        user_id=user_id,
        provider=Provider.GARMIN,
        provider_user_id=garmin_user,
        kinds=kinds,
        scopes=",".join(sorted(permissions)),
        token=token,
        backfill=backfill,
        audit={"permissions": permissions},
    )


# --- Calls as the user ------------------------------------------------------------------------


def _as_user(connection_id: int, call: Callable[[str], T]) -> T:
    token = connection_access_token(connection_id=connection_id)
    try:
        return call(token)
    except AccessRevokedError:
        # A 401 may be an access token revoked early; one forced refresh tells revocation apart.
        token = connection_access_token(connection_id=connection_id, force_refresh=True)
        return call(token)


def _allowed_kinds(connection: Connection) -> set[str]:
    chosen = set(connection.kind_list)
    permissions = [p for p in connection.scopes.split(",") if p]
    return chosen & _permitted(permissions) if permissions else chosen


def garmin_backfill(*, connection_id: int, start_epoch: int, end_epoch: int) -> int:
    """Ask Garmin to push the chosen kinds' summaries for [start, end); returns how many
    requests it accepted. The data arrives later, through the webhook."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.status == ConnectionStatus.DISCONNECTED:
        return 0
    types = sorted({KIND_BACKFILL[kind] for kind in _allowed_kinds(connection)})
    requested = 0
    for summary_type in types:
        requested += _as_user(
            connection_id,
            lambda token, summary_type=summary_type: garmin.request_backfill(
                access_token=token,
                summary_type=summary_type,
                start_epoch=start_epoch,
                end_epoch=end_epoch,
            ),
        )
    sync_succeeded(connection_id=connection_id)
    return requested


def sync(*, connection_id: int) -> int:
    """Ask for everything since the last sync (30 days if none): Garmin pushes it to us."""
    connection = Connection.objects.get(pk=connection_id)
    now = timezone.now()
    since = (
        connection.last_sync_at - SYNC_OVERLAP
        if connection.last_sync_at
        else now - timedelta(days=BACKFILL_DAYS)
    )
    return garmin_backfill(
        connection_id=connection_id,
        start_epoch=int(since.timestamp()),
        end_epoch=int(now.timestamp()),
    )


# --- The webhook (public host) ----------------------------------------------------------------


def _items(payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = payload[key]
    if not isinstance(items, list):
        raise ValueError(f"{key}: not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{key}[{index}]: not an object")
        if not isinstance(item.get("userId"), str) or not item["userId"]:
            raise ValueError(f"{key}[{index}].userId: missing")
        if "callbackURL" in item:
            if not isinstance(item["callbackURL"], str) or not garmin.is_callback_url(
                item["callbackURL"]
            ):
                raise ValueError(f"{key}[{index}].callbackURL: not Garmin's API")
        elif key in SUMMARY_KINDS and not isinstance(item.get("summaryId"), str | int):
            raise ValueError(f"{key}[{index}].summaryId: missing")
        elif key == "userPermissionsChange" and not isinstance(item.get("permissions"), list):
            raise ValueError(f"{key}[{index}].permissions: not a list")
    return items


def garmin_delivery_receive(*, payload: Any) -> int:
    """Check a delivery's shape, route its items by userId to every gym that connected the user
    and queue their processing there; returns how many tasks were queued. Quick: no call to
    Garmin here. ValueError (naming the field) for a malformed delivery."""
    if not isinstance(payload, dict):
        raise ValueError("body: not an object")
    # userId -> [(type, items)], checked in full before anything is queued.
    by_user: dict[str, list[tuple[str, list[dict[str, Any]]]]] = defaultdict(list)
    for key in payload:
        if key not in SUMMARY_KINDS and key not in NOTICE_TYPES:
            continue  # a type we did not subscribe to
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in _items(payload, key):
            grouped[item["userId"]].append(item)
        for garmin_user, items in grouped.items():
            by_user[garmin_user].append((key, items))
    if not by_user:
        return 0
    accounts = WearableAccount.objects.filter(
        provider=Provider.GARMIN, provider_user_id__in=list(by_user)
    ).select_related("gym")
    from apps.wearables.providers.garmin.tasks import garmin_delivery_task

    queued = 0
    for account in accounts:
        with tenant_context(account.gym):
            for key, items in by_user[account.provider_user_id]:
                # Sent from the gym's schema, so the task runs there (tenant_schemas_celery).
                garmin_delivery_task.delay(
                    account.connection_id, account.provider_user_id, key, items
                )
                queued += 1
    return queued


# --- Processing in the gym --------------------------------------------------------------------


def garmin_delivery_process(
    *, connection_id: int, garmin_user: str, summary_type: str, items: list[dict[str, Any]]
) -> str:
    """Apply one routed delivery in the current gym: notices, pings (fetched here) or pushed
    summaries. Idempotent: every summary is stored by its id."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.provider_user_id != garmin_user:
        return "unknown connection"
    if summary_type == "deregistrations":
        connection_revoked(connection_id=connection_id, reason="deregistered at Garmin")
        return "revoked"
    if summary_type == "userPermissionsChange":
        return garmin_permissions_changed(
            connection_id=connection_id, permissions=items[-1].get("permissions") or []
        )
    if connection.status == ConnectionStatus.DISCONNECTED:
        return "disconnected"
    summaries: list[dict[str, Any]] = []
    for item in items:
        if "callbackURL" in item:
            url = item["callbackURL"]
            fetched = _as_user(
                connection_id,
                lambda token, url=url: garmin.fetch_callback(access_token=token, url=url),
            )
            summaries.extend(s for s in fetched if s.get("userId") in (None, garmin_user))
        else:
            summaries.append(item)
    stored = garmin_summaries_store(
        connection_id=connection_id, summary_type=summary_type, summaries=summaries
    )
    return f"stored {stored}"


def garmin_permissions_changed(*, connection_id: int, permissions: list[Any]) -> str:
    """The user changed what they share in Garmin Connect: keep the new permissions (kinds not
    permitted any more stop being stored), or disconnect if nothing we read is left."""
    permissions = sorted(str(p) for p in permissions)
    if not _permitted(permissions):
        connection_revoked(connection_id=connection_id, reason="permissions withdrawn at Garmin")
        return "revoked"
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection_id)
        if connection.status == ConnectionStatus.DISCONNECTED:
            return "disconnected"
        connection.scopes = ",".join(permissions)[:500]
        connection.save(update_fields=["scopes", "updated_at"])
        audit_record(
            action="wearables.permissions_changed",
            obj=connection,
            changes={"provider": Provider.GARMIN, "permissions": permissions},
        )
    return "permissions"


def garmin_summaries_store(
    *, connection_id: int, summary_type: str, summaries: list[dict[str, Any]]
) -> int:
    """Store summaries of one type for the connection, skipping kinds not shared and invalid
    items; returns how many were stored. The connection is locked meanwhile, so two deliveries
    of the same day (different summaryIds) are compared one after the other."""
    kinds = SUMMARY_KINDS.get(summary_type, set())
    stored = 0
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection_id)
        if connection.status == ConnectionStatus.DISCONNECTED:
            return 0
        allowed = _allowed_kinds(connection) & kinds
        if not allowed:
            return 0
        store = STORES[summary_type]
        for summary in summaries:
            try:
                with transaction.atomic():
                    stored += store(connection, summary, allowed)
            except (InvalidRecordError, TypeError, ValueError, IntegrityError) as error:
                # One bad item (a string where a number belongs, a sleep ending before it
                # starts) is skipped; the rest of the delivery is stored.
                logger.info(
                    "Garmin %s %s skipped: %s", summary_type, summary.get("summaryId"), error
                )
    if stored:
        sync_succeeded(connection_id=connection_id)
    return stored


# --- One summary each -------------------------------------------------------------------------


def _int(value: Any, *, maximum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = round(float(value))
    except (TypeError, ValueError) as error:
        raise InvalidRecordError(f"not a number: {value!r}") from error
    if not 0 <= number <= maximum:
        raise InvalidRecordError(f"out of range: {value!r}")
    return number


def _day(value: Any) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidRecordError(f"calendarDate: {value!r}") from error
    if day > timezone.now().date() + timedelta(days=1):
        raise InvalidRecordError("a day in the future")
    return day


def _instant(value: Any) -> datetime:
    try:
        at = datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise InvalidRecordError(f"not a time: {value!r}") from error
    if at > timezone.now() + timedelta(hours=1):
        raise InvalidRecordError("in the future")
    return at


def _zone(offset: Any) -> str:
    """Garmin gives the day's UTC offset in seconds, not its zone."""
    try:
        return offset_zone(int(offset))
    except (TypeError, ValueError):
        return ""


def _summary_id(summary: dict[str, Any]) -> str:
    value = str(summary.get("summaryId") or "")[:64]
    if not value:
        raise InvalidRecordError("no summaryId")
    return value


def _daily_rank(steps: int | None, calories: int | None, distance: int | None) -> tuple:
    return (steps or 0, calories or 0, distance or 0)


def _store_daily(connection: Connection, summary: dict[str, Any], allowed: set[str]) -> int:
    summary_id = _summary_id(summary)
    day = _day(summary.get("calendarDate"))
    steps = _int(summary.get("steps"), maximum=200_000)
    distance = _int(summary.get("distanceInMeters"), maximum=1_000_000)
    active = _int(summary.get("activeKilocalories"), maximum=20_000)
    resting = _int(summary.get("bmrKilocalories"), maximum=20_000)
    # Calories burned in the day: active plus resting (what intake is compared with).
    calories = None if active is None and resting is None else (active or 0) + (resting or 0)
    active_seconds = _int(summary.get("activeTimeInSeconds"), maximum=24 * 3600)
    if active_seconds is None:
        moderate = _int(summary.get("moderateIntensityDurationInSeconds"), maximum=24 * 3600)
        vigorous = _int(summary.get("vigorousIntensityDurationInSeconds"), maximum=24 * 3600)
        if moderate is not None or vigorous is not None:
            active_seconds = min(24 * 3600, (moderate or 0) + (vigorous or 0))
    active_minutes = None if active_seconds is None else active_seconds // 60
    common = {"device": "Garmin", "time_zone": _zone(summary.get("startTimeOffsetInSeconds"))}
    client_id = connection.client_id
    stored_day = DailyActivity.objects.filter(
        client_id=client_id, provider=Provider.GARMIN, date=day
    ).first()
    if stored_day and _daily_rank(
        stored_day.steps, stored_day.calories_kcal, stored_day.distance_m
    ) > _daily_rank(steps, calories, distance):
        return 0  # an older version of the day, arriving late
    written = 0
    if DataKind.ACTIVITY in allowed:
        _store_day_row(
            DailyActivity,
            client_id=client_id,
            day=day,
            summary_id=summary_id,
            fields={
                **common,
                "steps": steps,
                "distance_m": distance,
                "active_minutes": active_minutes,
                "calories_kcal": calories,
            },
        )
        written = 1
    resting_bpm = _heart_rate(summary.get("restingHeartRateInBeatsPerMinute"))
    if DataKind.HEART_RATE in allowed and resting_bpm is not None:
        # Garmin's daily summary has no time in heart rate zones: those stay empty.
        _store_day_row(
            HeartRateDay,
            client_id=client_id,
            day=day,
            summary_id=summary_id,
            fields={**common, "resting_bpm": resting_bpm},
        )
        written = 1
    return written


def _store_day_row(
    model: Any, *, client_id: int, day: date, summary_id: str, fields: dict[str, Any]
) -> None:
    """One row per day: the day's row takes the new summaryId and values."""
    row = model.objects.filter(client_id=client_id, provider=Provider.GARMIN, date=day).first()
    if row is None or row.provider_id == summary_id:
        model.objects.update_or_create(
            client_id=client_id,
            provider=Provider.GARMIN,
            provider_id=summary_id,
            defaults={"date": day, **fields},
        )
        return
    # Another day's row may hold this summaryId (a summary moved between days): it goes.
    model.objects.filter(
        client_id=client_id, provider=Provider.GARMIN, provider_id=summary_id
    ).delete()
    row.provider_id = summary_id
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def _store_sleep(connection: Connection, summary: dict[str, Any], allowed: set[str]) -> int:
    summary_id = _summary_id(summary)
    day = _day(summary.get("calendarDate"))
    start_at = _instant(summary.get("startTimeInSeconds"))
    duration = _int(summary.get("durationInSeconds"), maximum=24 * 3600)
    if not duration:
        raise InvalidRecordError("no duration")
    awake = _int(summary.get("awakeDurationInSeconds"), maximum=24 * 3600)
    unmeasured = _int(summary.get("unmeasurableSleepInSeconds"), maximum=24 * 3600) or 0

    def minutes(key: str) -> int | None:
        seconds = _int(summary.get(key), maximum=24 * 3600)
        return None if seconds is None else seconds // 60

    _store_day_row(
        SleepSession,
        client_id=connection.client_id,
        day=day,
        summary_id=summary_id,
        fields={
            "device": "Garmin",
            "time_zone": _zone(summary.get("startTimeOffsetInSeconds")),
            "start_at": start_at,
            # durationInSeconds is the whole night, awake time included.
            "end_at": start_at + timedelta(seconds=duration),
            "asleep_minutes": max(0, duration - (awake or 0) - unmeasured) // 60,
            "deep_minutes": minutes("deepSleepDurationInSeconds"),
            "light_minutes": minutes("lightSleepDurationInSeconds"),
            "rem_minutes": minutes("remSleepInSeconds"),
            "awake_minutes": None if awake is None else awake // 60,
        },
    )
    return 1


def _store_activity(connection: Connection, summary: dict[str, Any], allowed: set[str]) -> int:
    # activityId, where given: a manually updated activity comes back under another summaryId.
    provider_id = str(summary.get("activityId") or _summary_id(summary))[:64]
    start_at = _instant(summary.get("startTimeInSeconds"))
    duration = _int(summary.get("durationInSeconds"), maximum=7 * 24 * 3600)
    if duration is None:
        raise InvalidRecordError("no duration")
    try:
        offset = int(summary.get("startTimeOffsetInSeconds") or 0)
    except (TypeError, ValueError) as error:
        raise InvalidRecordError("startTimeOffsetInSeconds") from error
    fields = {
        "sport": str(summary.get("activityType") or "OTHER")[:32],
        "name": str(summary.get("activityName") or "")[:120],
        "start_at": start_at,
        "date": (start_at + timedelta(seconds=offset)).date(),
        "time_zone": _zone(offset),
        "duration_seconds": duration,
        "moving_seconds": _int(summary.get("movingDurationInSeconds"), maximum=duration),
        "distance_m": _decimal(summary.get("distanceInMeters"), maximum=Decimal("10000000")),
        "elevation_gain_m": _decimal(
            summary.get("totalElevationGainInMeters"), maximum=Decimal("100000")
        ),
        "average_heart_rate": _heart_rate(summary.get("averageHeartRateInBeatsPerMinute")),
        "max_heart_rate": _heart_rate(summary.get("maxHeartRateInBeatsPerMinute")),
        "calories_kcal": _int(summary.get("activeKilocalories"), maximum=50_000),
        "device": str(summary.get("deviceName") or "Garmin")[:64],
    }
    ExternalWorkout.objects.update_or_create(
        client_id=connection.client_id,
        provider=Provider.GARMIN,
        provider_id=provider_id,
        defaults=fields,
    )
    return 1


def _store_body(connection: Connection, summary: dict[str, Any], allowed: set[str]) -> int:
    measured_at = _instant(summary.get("measurementTimeInSeconds"))
    try:
        grams = summary.get("weightInGrams")
        weight = (
            None if grams in (None, "") else (Decimal(str(grams)) / 1000).quantize(Decimal("0.001"))
        )
        fat = summary.get("bodyFatInPercent")
        body_fat = None if fat in (None, "") else Decimal(str(fat)).quantize(Decimal("0.1"))
    except InvalidOperation as error:
        raise InvalidRecordError("weight or body fat not a number") from error
    body_measurement_from_provider(
        client_id=connection.client_id,
        provider=Provider.GARMIN,
        measured_at=measured_at,
        weight_kg=weight,
        body_fat_percent=body_fat,
    )
    return 1


STORES: dict[str, Callable[[Connection, dict[str, Any], set[str]], int]] = {
    "dailies": _store_daily,
    "sleeps": _store_sleep,
    "activities": _store_activity,
    "manuallyUpdatedActivities": _store_activity,
    "bodyComps": _store_body,
}
