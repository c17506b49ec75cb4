"""Writes of apps.wearables: connecting and disconnecting a provider, keeping its tokens fresh
(atomically: Strava rotates refresh tokens, and losing the newest one breaks the connection),
and storing what providers send in the one data model (apps.wearables.models).

Strava: the client connects from the portal (OAuth, a signed `state` naming the gym, redirect to
the public host); a 30-day backfill runs on connect; webhook events arrive on the public host,
are routed to each gym that connected the athlete (apps.wearables.routing) and processed there
on Celery."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.tenants.models import Gym
from apps.wearables.integrations import client_module, strava
from apps.wearables.integrations.errors import AccessRevokedError, ProviderError
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DataKind,
    ExternalWorkout,
    Provider,
)
from apps.wearables.routing.models import WearableAccount
from apps.wearables.services import adherence

logger = logging.getLogger(__name__)

OAUTH_STATE_SALT = "wearables.oauth"
OAUTH_STATE_MAX_AGE = 30 * 60
BACKFILL_DAYS = 30
STRAVA_PAGE_SIZE = 100
# Refresh a little before the access token expires, so a call in flight never carries a dead one.
REFRESH_MARGIN = timedelta(minutes=5)
# What each kind of data needs from Strava: only outside workouts come from it.
STRAVA_SCOPES = {DataKind.WORKOUTS: ["read", "activity:read_all"]}
STRAVA_KINDS = (DataKind.WORKOUTS,)


def _on_commit_in_this_gym(function: Callable[[], None]) -> None:
    """Run `function` on commit in the gym that is current now: the commit may come after the
    caller left the gym's tenant_context (the public host's callbacks), and tasks are sent to the
    schema current when they are sent."""
    gym = _current_gym()

    def run() -> None:
        with tenant_context(gym):
            function()

    transaction.on_commit(run)


class OAuthStateInvalidError(Exception):
    """A callback's `state` is forged, expired or names no gym."""


class ConnectRefusedError(Exception):
    """The client did not grant what the chosen kinds need, or Strava refused the code."""


# --- Connecting -------------------------------------------------------------------------------


def strava_authorize_url(
    *, gym: Gym, client_id: int, user_id: int, kinds: list[str], redirect_uri: str
) -> str:
    """Strava's consent page for this client, with a signed `state` naming the gym, the client
    and the kinds they chose (the redirect lands on the public host, without the gym's session)."""
    kinds = [kind for kind in kinds if kind in STRAVA_KINDS] or list(STRAVA_KINDS)
    scopes = sorted({scope for kind in kinds for scope in STRAVA_SCOPES[kind]})
    state = signing.dumps(
        {"gym": gym.schema_name, "client": client_id, "user": user_id, "kinds": kinds},
        salt=OAUTH_STATE_SALT,
    )
    return strava.authorize_url(redirect_uri=redirect_uri, state=state, scopes=scopes)


def oauth_state_read(*, state: str) -> tuple[Gym, dict[str, Any]]:
    """The gym a callback's `state` was signed for, and what it carried."""
    try:
        data = signing.loads(state, salt=OAUTH_STATE_SALT, max_age=OAUTH_STATE_MAX_AGE)
        gym = Gym.objects.get(schema_name=data["gym"])
        int(data["client"])
        int(data["user"])
        return gym, data
    except (signing.BadSignature, KeyError, TypeError, ValueError, Gym.DoesNotExist) as error:
        raise OAuthStateInvalidError from error


def _expiry(token: dict[str, Any]) -> datetime:
    if token.get("expires_at"):
        return datetime.fromtimestamp(int(token["expires_at"]), tz=UTC)
    return timezone.now() + timedelta(seconds=int(token.get("expires_in") or 0))


def strava_connect(
    *,
    gym: Gym,
    client_id: int,
    user_id: int,
    kinds: list[str],
    code: str,
    granted: str,
    redirect_uri: str,
) -> Connection:
    """Exchange the code, store the tokens encrypted, register the athlete in the public lookup
    and start the backfill. `granted` is the `scope` Strava's redirect says the athlete granted."""
    granted_scopes = {scope for scope in granted.split(",") if scope}
    if not granted_scopes & {"activity:read", "activity:read_all"}:
        raise ConnectRefusedError("activity scope not granted")
    try:
        token = strava.exchange_code(code=code, redirect_uri=redirect_uri)
    except strava.StravaError as error:
        raise ConnectRefusedError(str(error)) from error
    athlete_id = str((token.get("athlete") or {}).get("id") or "")
    if not athlete_id:
        raise ConnectRefusedError("no athlete in the token response")

    def backfill(connection_pk: int) -> None:
        from apps.wearables.tasks import strava_backfill_task

        strava_backfill_task.delay(connection_pk)

    return connection_store_granted(
        gym=gym,
        client_id=client_id,
        user_id=user_id,
        provider=Provider.STRAVA,
        provider_user_id=athlete_id,
        kinds=kinds,
        scopes=",".join(sorted(granted_scopes)),
        token=token,
        backfill=backfill,
    )


def connection_store_granted(
    *,
    gym: Gym,
    client_id: int,
    user_id: int,
    provider: str,
    provider_user_id: str,
    kinds: list[str],
    scopes: str,
    token: dict[str, Any],
    backfill: Callable[[int], None],
    audit: dict[str, Any] | None = None,
) -> Connection:
    """After a client granted access at an OAuth provider: store (or revive) their connection
    with the tokens encrypted, route the provider's user to it in the public lookup, and run
    `backfill(connection_pk)` once this commits. A provider user belongs to one client per gym
    (webhooks name only the provider's user), so one already connected elsewhere is refused."""
    from apps.accounts.models import User
    from apps.crm.models import Client

    with tenant_context(gym), transaction.atomic():
        client = Client.objects.get(pk=client_id)
        taken = (
            Connection.objects.filter(provider=provider, provider_user_id=provider_user_id)
            .exclude(client=client)
            .exclude(status=ConnectionStatus.DISCONNECTED)
        )
        if taken.exists():
            raise ConnectRefusedError(f"{provider} user already connected to another client here")
        connection, _created = Connection.objects.select_for_update().get_or_create(
            client=client, provider=provider
        )
        connection.provider_user_id = provider_user_id
        connection.status = ConnectionStatus.ACTIVE
        connection.kinds = ",".join(kinds)
        connection.scopes = scopes[:500]
        connection.access_token = token["access_token"]
        connection.refresh_token = token.get("refresh_token") or ""
        connection.expires_at = _expiry(token)
        connection.last_error = ""
        connection.next_attempt_at = timezone.now()
        connection.save()
        WearableAccount.objects.update_or_create(
            provider=provider,
            provider_user_id=provider_user_id,
            gym=gym,
            defaults={"connection_id": connection.pk},
        )
        WearableAccount.objects.filter(
            provider=provider, gym=gym, connection_id=connection.pk
        ).exclude(provider_user_id=provider_user_id).delete()
        audit_record(
            action="wearables.connected",
            actor=User.objects.filter(pk=user_id).first(),
            obj=connection,
            changes={"provider": provider, "kinds": kinds, **(audit or {})},
        )
        connection_pk = connection.pk
        _on_commit_in_this_gym(lambda: backfill(connection_pk))
    return connection


# --- Tokens -----------------------------------------------------------------------------------


def connection_access_token(*, connection_id: int, force_refresh: bool = False) -> str:
    """A live access token for the connection, refreshed if it is (nearly) expired.

    The row is locked while refreshing: two workers refreshing at once would each spend the same
    refresh token, and the loser's rotated token would overwrite the winner's (or be refused).
    The second worker waits, then finds the fresh token and uses it."""
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection_id)
        if connection.status == ConnectionStatus.DISCONNECTED or not connection.refresh_token:
            raise AccessRevokedError("connection is disconnected")
        fresh = connection.expires_at and connection.expires_at > timezone.now() + REFRESH_MARGIN
        if fresh and not force_refresh:
            return connection.access_token
        try:
            token = client_module(connection.provider).refresh(
                refresh_token=connection.refresh_token
            )
        except AccessRevokedError:
            # Commit the lock-holding transaction first: the revocation is a write of its own.
            revoked = True
        else:
            revoked = False
            connection.access_token = token["access_token"]
            # Keep the newest refresh token: Strava and Garmin rotate it on refresh.
            connection.refresh_token = token.get("refresh_token") or connection.refresh_token
            connection.expires_at = _expiry(token)
            connection.save(
                update_fields=["access_token", "refresh_token", "expires_at", "updated_at"]
            )
            return connection.access_token
    if revoked:
        connection_revoked(connection_id=connection_id, reason="refresh token refused")
    raise AccessRevokedError("refresh token refused")


def _strava_get(connection_id: int, path: str, params: dict[str, Any] | None = None) -> Any:
    token = connection_access_token(connection_id=connection_id)
    try:
        return strava.api_get(access_token=token, path=path, params=params)
    except strava.AccessRevokedError:
        # A 401 may be an access token revoked early; one forced refresh tells revocation apart.
        token = connection_access_token(connection_id=connection_id, force_refresh=True)
        return strava.api_get(access_token=token, path=path, params=params)


# --- Disconnecting ----------------------------------------------------------------------------


def _forget(connection: Connection, *, reason: str) -> None:
    connection.status = ConnectionStatus.DISCONNECTED
    connection.access_token = ""
    connection.refresh_token = ""
    connection.expires_at = None
    connection.next_attempt_at = None
    connection.last_error = reason[:500]
    connection.save()
    WearableAccount.objects.filter(
        provider=connection.provider, connection_id=connection.pk, gym=_current_gym()
    ).delete()


def _current_gym() -> Gym:
    from apps.tenants.selectors import current_gym

    return current_gym()


def connection_revoked(*, connection_id: int, reason: str) -> Connection | None:
    """The provider says our access is gone (Strava's authorized=false, a refused refresh token):
    forget the tokens, mark the connection disconnected and tell the client."""
    with transaction.atomic():
        connection = (
            Connection.objects.select_for_update()
            .select_related("client")
            .filter(pk=connection_id)
            .first()
        )
        if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
            return connection
        _forget(connection, reason=reason)
        audit_record(
            action="wearables.revoked",
            obj=connection,
            changes={"provider": connection.provider, "reason": reason},
        )
        client = connection.client
        provider_name = connection.get_provider_display()
        event_key = f"wearable_disconnected:{connection.pk}:{int(timezone.now().timestamp())}"

        def tell_client() -> None:
            from apps.notifications.services import notify

            notify(
                kind="wearable_disconnected",
                recipient=client,
                context={"provider": provider_name, "first_name": client.first_name},
                event_key=event_key,
            )

        _on_commit_in_this_gym(tell_client)
    return connection


def _live_token_for_deauthorize(connection: Connection) -> str:
    """The access token to revoke with, refreshed if it expired: Garmin's last a day, and an
    expired one would leave the user's registration at Garmin in place. A refused refresh means
    the access is gone already; the stale token is returned and the provider says so."""
    if connection.expires_at is None or connection.expires_at > timezone.now() + REFRESH_MARGIN:
        return connection.access_token
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.expires_at and locked.expires_at > timezone.now() + REFRESH_MARGIN:
            return locked.access_token
        try:
            token = client_module(locked.provider).refresh(refresh_token=locked.refresh_token)
        except AccessRevokedError:
            return locked.access_token
        locked.access_token = token["access_token"]
        locked.refresh_token = token.get("refresh_token") or locked.refresh_token
        locked.expires_at = _expiry(token)
        locked.save(update_fields=["access_token", "refresh_token", "expires_at", "updated_at"])
        return locked.access_token


def connection_disconnect(*, connection: Connection, actor: Any) -> Connection:
    """The client (or staff) disconnects: revoke our access at the provider, delete the tokens.
    Stored data stays (it is the client's history); reconnecting picks up from there."""
    access_token = connection.access_token
    if access_token:
        # Only OAuth providers hold tokens; each one's client offers deauthorize().
        try:
            access_token = _live_token_for_deauthorize(connection)
            client_module(connection.provider).deauthorize(access_token=access_token)
        except (ProviderError, OSError):
            # The tokens are deleted whatever the provider says: the client asked us to stop.
            logger.warning(
                "%s deauthorize failed for connection %s", connection.provider, connection.pk
            )
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        _forget(connection, reason="")
        audit_record(
            action="wearables.disconnected",
            actor=actor,
            obj=connection,
            changes={"provider": connection.provider},
        )
    return connection


# --- Strava data ------------------------------------------------------------------------------


class InvalidRecordError(ValueError):
    """A provider's item fails the unit, range or date checks; it is skipped, not stored."""


def _decimal(value: Any, *, maximum: Decimal) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.1"))
    except InvalidOperation as error:
        raise InvalidRecordError(f"not a number: {value!r}") from error
    if number < 0 or number > maximum:
        raise InvalidRecordError(f"out of range: {value!r}")
    return number


def _heart_rate(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = round(float(value))
    return number if 20 <= number <= 250 else None


def strava_workout_fields(activity: dict[str, Any]) -> dict[str, Any]:
    """ExternalWorkout's fields for a Strava activity (DetailedActivity or SummaryActivity),
    checked for units, ranges and dates in the future."""
    try:
        start_at = datetime.fromisoformat(str(activity["start_date"]).replace("Z", "+00:00"))
        elapsed = int(activity.get("elapsed_time") or 0)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidRecordError(f"bad start or duration: {error}") from error
    if start_at > timezone.now() + timedelta(hours=1):
        raise InvalidRecordError("starts in the future")
    if not 0 <= elapsed <= 7 * 24 * 3600:
        raise InvalidRecordError("duration out of range")
    # Strava's timezone is "(GMT+01:00) Europe/Paris"; start_date_local is the local wall time.
    zone_name = str(activity.get("timezone") or "").rsplit(" ", 1)[-1]
    try:
        local_day = start_at.astimezone(ZoneInfo(zone_name)).date() if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone_name, local_day = "", None
    if local_day is None:
        local = str(activity.get("start_date_local") or "")[:10]
        local_day = date.fromisoformat(local) if local else start_at.date()
    calories = activity.get("calories")
    return {
        "sport": str(activity.get("sport_type") or activity.get("type") or "Workout")[:32],
        "name": str(activity.get("name") or "")[:120],
        "start_at": start_at,
        "date": local_day,
        "time_zone": zone_name[:48],
        "duration_seconds": elapsed,
        "moving_seconds": int(activity["moving_time"]) if activity.get("moving_time") else None,
        "distance_m": _decimal(activity.get("distance"), maximum=Decimal("10000000")),
        "elevation_gain_m": _decimal(
            activity.get("total_elevation_gain"), maximum=Decimal("100000")
        ),
        "average_heart_rate": _heart_rate(activity.get("average_heartrate")),
        "max_heart_rate": _heart_rate(activity.get("max_heartrate")),
        "calories_kcal": round(float(calories))
        if calories and 0 < float(calories) < 50000
        else None,
        "device": str(activity.get("device_name") or "Strava")[:64],
    }


def strava_workout_store(*, connection: Connection, activity: dict[str, Any]) -> ExternalWorkout:
    """Insert or update the workout for a Strava activity (unique on client, provider, id)."""
    fields = strava_workout_fields(activity)
    workout, _created = ExternalWorkout.objects.update_or_create(
        client_id=connection.client_id,
        provider=Provider.STRAVA,
        provider_id=str(activity["id"]),
        defaults=fields,
    )
    return workout


def strava_backfill(*, connection_id: int, days: int = BACKFILL_DAYS) -> int:
    """Fetch the last `days` of activities, page by page; returns how many were stored."""
    connection = Connection.objects.get(pk=connection_id)
    after = int((timezone.now() - timedelta(days=days)).timestamp())
    stored, page = 0, 1
    while True:
        activities = _strava_get(
            connection_id,
            "/athlete/activities",
            {"after": after, "page": page, "per_page": STRAVA_PAGE_SIZE},
        )
        if not isinstance(activities, list) or not activities:
            break
        for activity in activities:
            try:
                strava_workout_store(connection=connection, activity=activity)
                stored += 1
            except InvalidRecordError as error:
                logger.info("Strava activity %s skipped: %s", activity.get("id"), error)
        if len(activities) < STRAVA_PAGE_SIZE:
            break
        page += 1
    sync_succeeded(connection_id=connection_id)
    return stored


def sync_succeeded(*, connection_id: int) -> None:
    Connection.objects.filter(pk=connection_id).update(
        last_sync_at=timezone.now(),
        last_error="",
        next_attempt_at=None,
        status=ConnectionStatus.ACTIVE,
    )
    # What arrived may complete scheduled cardio workouts (or, deleted, undo a completion).
    adherence.adherence_match_queue(connection_id=connection_id)


def sync_failed(*, connection_id: int, error: str, retry_in: int) -> None:
    Connection.objects.filter(pk=connection_id).exclude(
        status=ConnectionStatus.DISCONNECTED
    ).update(
        last_error=error[:500],
        next_attempt_at=timezone.now() + timedelta(seconds=retry_in),
        status=ConnectionStatus.ERROR,
    )


# --- Strava's webhook -------------------------------------------------------------------------


def strava_event_receive(*, event: dict[str, Any]) -> int:
    """Route one event from the public host to every gym that connected its athlete and queue
    its processing there; returns how many gyms it went to. Quick: no call to Strava here."""
    try:
        owner_id = str(int(event["owner_id"]))
        object_type = str(event["object_type"])
        aspect = str(event["aspect_type"])
        int(event["object_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"malformed Strava event: {error}") from error
    if object_type not in ("activity", "athlete") or aspect not in ("create", "update", "delete"):
        return 0
    accounts = list(
        WearableAccount.objects.filter(
            provider=Provider.STRAVA, provider_user_id=owner_id
        ).select_related("gym")
    )
    from apps.wearables.tasks import strava_event_task

    for account in accounts:
        with tenant_context(account.gym):
            # Sent from the gym's schema, so the task runs there (tenant_schemas_celery).
            strava_event_task.delay(account.connection_id, event)
    return len(accounts)


def strava_event_process(*, connection_id: int, event: dict[str, Any]) -> str:
    """Apply one event in the current gym. Idempotent and order-proof: a create or update fetches
    the activity as it is now, a delete removes it, and a fetch of a deleted one stores nothing."""
    connection = Connection.objects.filter(pk=connection_id).first()
    owner_id = str(event.get("owner_id"))
    if connection is None or connection.provider_user_id != owner_id:
        return "unknown connection"
    if event["object_type"] == "athlete":
        updates = event.get("updates") or {}
        if str(updates.get("authorized", "")).lower() == "false":
            connection_revoked(connection_id=connection_id, reason="revoked at Strava")
            return "revoked"
        return "ignored"
    if connection.status == ConnectionStatus.DISCONNECTED:
        return "disconnected"
    activity_id = str(int(event["object_id"]))
    if event["aspect_type"] == "delete":
        ExternalWorkout.objects.filter(
            client_id=connection.client_id, provider=Provider.STRAVA, provider_id=activity_id
        ).delete()
        sync_succeeded(connection_id=connection_id)
        return "deleted"
    try:
        activity = _strava_get(connection_id, f"/activities/{activity_id}")
    except strava.NotFoundError:
        # Deleted (or made private) after the event was sent: its delete event does the rest.
        ExternalWorkout.objects.filter(
            client_id=connection.client_id, provider=Provider.STRAVA, provider_id=activity_id
        ).delete()
        sync_succeeded(connection_id=connection_id)
        return "gone"
    try:
        strava_workout_store(connection=connection, activity=activity)
    except InvalidRecordError as error:
        logger.info("Strava activity %s skipped: %s", activity_id, error)
        return "invalid"
    sync_succeeded(connection_id=connection_id)
    return "stored"


# --- Body weight and fat: into progress's measurements ---------------------------------------


def body_measurement_from_provider(
    *,
    client_id: int,
    provider: str,
    measured_at: datetime,
    weight_kg: Decimal | None = None,
    body_fat_percent: Decimal | None = None,
) -> Any:
    """Store a scale's reading as a progress.BodyMeasurement, the one place body weight lives.
    A reading is identified by its exact time with no recording user (people's own entries always
    have one), so the same reading delivered again updates its row instead of adding one."""
    from apps.progress.models import BODY_FAT_RANGE, WEIGHT_RANGE, BodyMeasurement

    if measured_at > timezone.now() + timedelta(hours=1):
        raise InvalidRecordError("measured in the future")
    values: dict[str, Any] = {}
    for field, value, (low, high) in (
        ("weight_kg", weight_kg, WEIGHT_RANGE),
        ("body_fat_percent", body_fat_percent, BODY_FAT_RANGE),
    ):
        if value is None:
            continue
        if not low <= value <= high:
            raise InvalidRecordError(f"{field} out of range: {value}")
        values[field] = value
    if not values:
        raise InvalidRecordError("no weight or body fat")
    with transaction.atomic():
        measurement, created = BodyMeasurement.objects.update_or_create(
            client_id=client_id, measured_at=measured_at, recorded_by=None, defaults=values
        )
        audit_record(
            action="wearables.measurement_stored",
            obj=measurement,
            changes={
                "provider": provider,
                "created": created,
                **{k: str(v) for k, v in values.items()},
            },
        )
    return measurement


# --- Staff ask a client to connect an app ----------------------------------------------------


class InviteRefusedError(Exception):
    """The client cannot be asked (no portal login to open the link with); the message says why."""


def connect_invite_send(*, client_id: int, actor: Any) -> bool:
    """Staff ask a client to connect a watch or app: an in-app note and an email linking to the
    client's Activity page in the portal. Once per client and day (a double click, or two
    trainers, send one); False when today's was sent already."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from apps.crm.models import Client
    from apps.notifications.services import notify
    from apps.tenants.selectors import gym_today

    with transaction.atomic():
        # The lock makes a concurrent second click wait and then find today's delivery.
        client = (
            Client.objects.select_for_update(of=("self",)).select_related("user").get(pk=client_id)
        )
        if client.user is None or not client.user.is_active:
            raise InviteRefusedError(
                _(
                    "%(name)s has no portal login, so there is nowhere to connect an app. "
                    "Invite them to the portal first."
                )
                % {"name": client}
            )
        deliveries = notify(
            kind="wearable_invite",
            recipient=client,
            context={"staff_name": actor.get_full_name() or actor.email},
            event_key=f"wearable_invite:{client.pk}:{gym_today().isoformat()}",
            url=reverse("portal:activity", urlconf="fitnesscrm.urls_tenant"),
            actor=actor,
        )
        if deliveries:
            audit_record(
                action="wearables.invite_sent",
                actor=actor,
                obj=client,
                changes={"channels": sorted(d.channel for d in deliveries)},
            )
    return bool(deliveries)
