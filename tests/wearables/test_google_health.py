"""Fitbit through the Google Health API, end to end against the loopback fake: connect with PKCE,
backfill, the subscriber verification and notifications, revocation, the per-user rate limit and
the token refresh race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.wearables.integrations import google_health as api
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    ExternalWorkout,
    HeartRateDay,
    NutritionDay,
    SleepSession,
)
from apps.wearables.providers.google_health import services
from apps.wearables.routing.models import WearableAccount
from tests.fakes.google_health import FakeGoogleHealth, iso
from tests.wearables.conftest import make_client

pytestmark = pytest.mark.django_db
CLIENT_ID, CLIENT_SECRET, SECRET = (
    "gh-client.apps.googleusercontent.com",
    "gh-secret",
    "hook-s3cret",
)
REDIRECT = "http://localhost/integrations/google-health/callback/"
WEBHOOK = "/integrations/google-health/webhook/"
ALL_KINDS = ["activity", "heart_rate", "sleep", "workouts", "nutrition", "body"]


@pytest.fixture
def fake():
    fake = FakeGoogleHealth(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    with override_settings(**fake.settings(), GOOGLE_HEALTH_WEBHOOK_SECRET=SECRET):
        yield fake
    fake.stop()


def _today():
    return timezone.now().date()


def add_sleep(fake, user, *, nights_ago=1, deep=80, end=None):  # type: ignore[no-untyped-def]
    end = end or datetime.now(UTC).replace(hour=6, minute=30, second=0, microsecond=0) - timedelta(
        days=nights_ago
    )
    start = end - timedelta(hours=8)
    stages, cursor = [], start
    for kind, minutes in (("LIGHT", 200), ("DEEP", deep), ("REM", 120), ("AWAKE", 20)):
        stages.append(
            {
                "type": kind,
                "startTime": iso(cursor),
                "endTime": iso(cursor + timedelta(minutes=minutes)),
            }
        )
        cursor += timedelta(minutes=minutes)
    return fake.add_point(
        user,
        "sleep",
        {
            "interval": {
                "startTime": iso(start),
                "endTime": iso(end),
                "endUtcOffset": "3600s",
                "civilEndTime": {"date": {"year": end.year, "month": end.month, "day": end.day}},
            },
            "type": "STAGES",
            "stages": stages,
            "summary": {"minutesAsleep": str(200 + deep + 120)},
        },
    )


def fill(fake, user, days=30):  # type: ignore[no-untyped-def]
    today = _today()
    for n in range(days):
        day = today - timedelta(days=n)
        fake.set_rollup(user, "steps", day, {"countSum": str(8000 + n)})
        fake.set_rollup(user, "distance", day, {"millimetersSum": str(6_100_000)})
        fake.set_rollup(
            user,
            "active-zone-minutes",
            day,
            {"sumInFatBurnHeartZone": "20", "sumInCardioHeartZone": "9", "sumInPeakHeartZone": "2"},
        )
        fake.set_rollup(
            user,
            "time-in-heart-rate-zone",
            day,
            {
                "timeInHeartRateZones": [
                    {"heartRateZone": "LIGHT", "duration": "3600s"},
                    {"heartRateZone": "MODERATE", "duration": "1230.5s"},
                    {"heartRateZone": "PEAK", "duration": "120s"},
                ]
            },
        )
        fake.set_rollup(user, "total-calories", day, {"kcalSum": 2300.5})
        fake.set_rollup(
            user,
            "nutrition-log",
            day,
            {
                "energy": {"kcalSum": 2100},
                "nutrients": [
                    {"nutrient": "SODIUM", "quantity": {"gramsSum": 2.1}},
                    {"nutrient": "PROTEIN", "quantity": {"gramsSum": 120.4}},
                ],
                "totalCarbohydrate": {"gramsSum": 250},
                "totalFat": {"gramsSum": 70},
            },
        )
        fake.set_rollup(user, "hydration-log", day, {"amountConsumed": {"millilitersSum": 1800}})
        fake.add_point(
            user,
            "daily-resting-heart-rate",
            {
                "date": {"year": day.year, "month": day.month, "day": day.day},
                "beatsPerMinute": "58",
            },
        )
    # Nights that started within the 30 days, whatever the hour the test runs at.
    for night in range(1, 29):
        add_sleep(fake, user, nights_ago=night)
    start = datetime.now(UTC) - timedelta(days=2, hours=3)
    fake.add_point(
        user,
        "exercise",
        {
            "interval": {
                "startTime": iso(start),
                "endTime": iso(start + timedelta(minutes=45)),
                "startUtcOffset": "3600s",
            },
            "exerciseType": "RUNNING",
            "displayName": "Evening run",
            "activeDuration": "2600s",
            "metricsSummary": {
                "distanceMillimeters": "8012000",
                "caloriesKcal": 520,
                "averageHeartRateBeatsPerMinute": 151,
            },
        },
    )
    fake.add_point(
        user, "weight", {"sampleTime": {"physicalTime": iso(start)}, "weightGrams": 72500}
    )
    fake.add_point(
        user, "body-fat", {"sampleTime": {"physicalTime": iso(start)}, "percentage": 18.4}
    )


def connect(gym, client, fake, capture, *, kinds=None, user=None):  # type: ignore[no-untyped-def]
    from apps.wearables.providers.pkce import pkce_finish

    url = services.google_health_authorize_url(
        gym=gym,
        client_id=client.pk,
        user_id=client.user_id,
        kinds=kinds or ALL_KINDS,
        redirect_uri=REDIRECT,
    )
    params = dict(parse_qsl(urlsplit(fake.consent(url, user=user)).query))
    _gym, state, verifier = pkce_finish(state=params["state"], provider="google_health")
    with capture(execute=True):
        return services.google_health_connect(
            gym=gym,
            client_id=client.pk,
            user_id=client.user_id,
            kinds=list(state["kinds"]),
            code=params["code"],
            code_verifier=verifier,
            redirect_uri=REDIRECT,
        )


def deliver(public_client, body, capture, *, secret=SECRET):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return public_client.post(
            WEBHOOK, data=body, content_type="application/json", HTTP_AUTHORIZATION=secret
        )


# --- Connecting -------------------------------------------------------------------------------


def test_a_client_connects_from_the_portal_and_gets_30_days_of_every_kind(
    gym_a, client_a, public_client, fake, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "fitbit@alpha.example")
    health_user = fake.add_user()
    fill(fake, health_user)
    client_a.force_login(user)

    start = client_a.get(
        "/portal/activity/google-health/connect/?kind=activity&kind=sleep&kind=heart_rate"
        "&kind=nutrition&kind=workouts&kind=body"
    )
    assert start.status_code == 302
    query = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert "code_verifier" not in query
    assert api.scope("sleep") in query["scope"].split(" ")
    callback = urlsplit(fake.consent(start["Location"], user=health_user))
    assert callback.path == "/integrations/google-health/callback/"
    with django_capture_on_commit_callbacks(execute=True):
        done = public_client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302
    assert done["Location"].startswith("http://alpha.localhost/portal/activity/?result=connected")
    # The state and its verifier are spent: a replayed callback is refused.
    assert public_client.get(f"{callback.path}?{callback.query}").status_code == 400

    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.ACTIVE
        assert connection.provider_user_id == health_user
        assert connection.refresh_token.startswith("1//")
        assert set(connection.kind_list) == set(ALL_KINDS)
        assert connection.last_sync_at is not None
        assert DailyActivity.objects.filter(client=client).count() == 30
        today = DailyActivity.objects.get(client=client, provider_id=_today().isoformat())
        assert (today.steps, today.distance_m, today.active_minutes) == (8000, 6100, 31)
        assert today.calories_kcal == 2300  # kcalSum 2300.5, rounded half to even
        assert HeartRateDay.objects.filter(client=client, resting_bpm=58).count() == 30
        heart = HeartRateDay.objects.get(client=client, provider_id=_today().isoformat())
        zones = [getattr(heart, f"zone_{n}_minutes") for n in range(1, 6)]
        assert zones == [60, 21, None, 2, None]
        sleep = SleepSession.objects.filter(client=client).order_by("-date").first()
        assert (sleep.deep_minutes, sleep.light_minutes, sleep.rem_minutes) == (80, 200, 120)
        assert sleep.awake_minutes == 20
        assert sleep.time_zone == "Etc/GMT-1"  # UTC+01:00
        assert SleepSession.objects.filter(client=client).count() == 28
        run = ExternalWorkout.objects.get(client=client)
        assert (run.sport, run.distance_m, run.duration_seconds) == (
            "Running",
            Decimal("8012.0"),
            2700,
        )
        food = NutritionDay.objects.get(client=client, provider_id=_today().isoformat())
        assert (food.calories_kcal, food.protein_g, food.water_ml) == (2100, Decimal("120.4"), 1800)
        from apps.progress.models import BodyMeasurement

        reading = BodyMeasurement.objects.get(client=client, recorded_by=None)
        assert (reading.weight_kg, reading.body_fat_percent) == (Decimal("72.5"), Decimal("18.4"))
    assert WearableAccount.objects.filter(gym=gym_a, provider_user_id=health_user).exists()
    # Sleep comes 25 to a page: 28 nights took two pages.
    sleep_pages = [r for r in fake.requests if r[1].endswith("/sleep/dataPoints")]
    assert len(sleep_pages) == 2


def test_the_consent_page_leads_back_to_our_callback(gym_a, client_a, public_client, fake) -> None:
    import re

    import httpx

    user, client = make_client(gym_a, "page@alpha.example")
    fake.add_user()
    client_a.force_login(user)
    start = client_a.get("/portal/activity/google-health/connect/?kind=sleep")
    page = httpx.get(start["Location"])
    assert page.status_code == 200
    allow = re.search(r'id="allow" href="([^"]+)"', page.text)
    assert allow
    callback = urlsplit(allow.group(1).replace("&amp;", "&"))
    assert callback.path == "/integrations/google-health/callback/"
    done = public_client.get(f"{callback.path}?{callback.query}")
    assert "result=connected" in done["Location"]
    with tenant_context(gym_a):
        assert Connection.objects.get(client=client).kind_list == ["sleep"]
    # Google refuses a request without PKCE.
    assert httpx.get(start["Location"].replace("code_challenge_method=S256", "")).status_code == 400


def test_the_client_only_shares_what_they_granted(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "partial@alpha.example")
    health_user = fake.add_user()
    url = services.google_health_authorize_url(
        gym=gym_a,
        client_id=client.pk,
        user_id=client.user_id,
        kinds=ALL_KINDS,
        redirect_uri=REDIRECT,
    )
    # The user unticks everything but sleep on Google's consent page.
    callback = fake.consent(url, user=health_user, grant=[api.scope("sleep"), api.scope("profile")])
    from apps.wearables.providers.pkce import pkce_finish

    params = dict(parse_qsl(urlsplit(callback).query))
    _g, state, verifier = pkce_finish(state=params["state"], provider="google_health")
    with django_capture_on_commit_callbacks(execute=True):
        connection = services.google_health_connect(
            gym=gym_a,
            client_id=client.pk,
            user_id=client.user_id,
            kinds=state["kinds"],
            code=params["code"],
            code_verifier=verifier,
            redirect_uri=REDIRECT,
        )
    assert connection.kind_list == ["sleep"]


def test_a_wrong_verifier_a_forged_state_or_a_refusal_connect_nothing(
    gym_a, client_a, public_client, fake
) -> None:
    user, client = make_client(gym_a, "shy@alpha.example")
    fake.add_user()
    client_a.force_login(user)
    start = client_a.get("/portal/activity/google-health/connect/?kind=activity")
    # The token endpoint checks the verifier against the challenge.
    params = dict(parse_qsl(urlsplit(fake.consent(start["Location"])).query))
    with pytest.raises(api.AccessRevokedError):
        api.exchange_code(code=params["code"], redirect_uri=REDIRECT, code_verifier="x" * 64)

    start = client_a.get("/portal/activity/google-health/connect/?kind=activity")
    callback = urlsplit(fake.consent(start["Location"], deny=True))
    done = public_client.get(f"{callback.path}?{callback.query}")
    assert "result=cancelled" in done["Location"]
    forged = public_client.get("/integrations/google-health/callback/?state=alpha&code=x")
    assert forged.status_code == 400
    start = client_a.get("/portal/activity/google-health/connect/?kind=activity")
    state = dict(parse_qsl(urlsplit(start["Location"]).query))["state"]
    without_code = public_client.get(f"/integrations/google-health/callback/?state={state}")
    assert without_code.status_code == 400
    with tenant_context(gym_a):
        assert not Connection.objects.filter(client=client, status="active").exists()


# --- The subscriber endpoint ------------------------------------------------------------------


def test_the_subscriber_verification_passes_only_with_our_secret(public_client, fake) -> None:
    def post(body: bytes, headers: dict[str, str]) -> int:
        extra = (
            {"HTTP_AUTHORIZATION": headers["Authorization"]} if "Authorization" in headers else {}
        )
        return public_client.post(
            WEBHOOK, data=body, content_type="application/json", **extra
        ).status_code

    assert fake.verify_subscriber(post, SECRET)
    # Someone else's verification (a wrong secret) is refused.
    assert not fake.verify_subscriber(post, "guess")
    assert post(b'{"type": "verification"}', {"Authorization": "guess"}) == 403
    assert post(b'{"type": "verification"}', {}) == 401


def test_bad_deliveries_get_a_4xx_naming_the_field(public_client, fake) -> None:
    for body, field in (
        ("not json", "body"),
        ({"type": "notification"}, "body"),
        ([], "body"),
        ([{"data": {"dataType": "steps"}}], "healthUserId"),
        ([{"data": {"healthUserId": "../gym_b", "dataType": "steps"}}], "healthUserId"),
        ([{"data": {"healthUserId": "1", "dataType": "steps", "intervals": []}}], "intervals"),
        (
            [
                {
                    "data": {
                        "healthUserId": "1",
                        "dataType": "steps",
                        "intervals": [{"physicalTimeInterval": {"startTime": "yesterday"}}],
                    }
                }
            ],
            "physicalTimeInterval",
        ),
    ):
        response = public_client.post(
            WEBHOOK,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=SECRET,
        )
        assert response.status_code == 400, body
        assert field in response.json()["error"]
    assert public_client.get(WEBHOOK).status_code == 405


def test_a_notification_twice_and_out_of_order_gives_one_row(
    gym_a, public_client, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "notified@alpha.example")
    health_user = fake.add_user()
    connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity", "sleep"],
        user=health_user,
    )
    today = _today()
    now = datetime.now(UTC)
    fake.set_rollup(health_user, "steps", today, {"countSum": "1000"})
    early = fake.notification(
        health_user, "steps", now - timedelta(hours=2), now - timedelta(hours=1)
    )
    fake.set_rollup(health_user, "steps", today, {"countSum": "4000"})
    late = fake.notification(health_user, "steps", now - timedelta(minutes=30), now)
    # The later notification arrives first, then the early one, then both again.
    for body in (late, early, late, early):
        assert deliver(public_client, body, django_capture_on_commit_callbacks).status_code == 204
    with tenant_context(gym_a):
        rows = DailyActivity.objects.filter(client=client, provider_id=today.isoformat())
        assert rows.count() == 1
        assert rows.get().steps == 4000

    # A sleep deleted at Google: its DELETE notification, and a late UPSERT redelivered, leave
    # nothing of it.
    night = add_sleep(fake, health_user, nights_ago=1)
    interval = night["sleep"]["interval"]
    start, end = (
        datetime.fromisoformat(interval[k].replace("Z", "+00:00")) for k in ("startTime", "endTime")
    )
    upsert = fake.notification(health_user, "sleep", start, end)
    deliver(public_client, upsert, django_capture_on_commit_callbacks)
    point_id = night["name"].rsplit("/", 1)[1]
    with tenant_context(gym_a):
        assert SleepSession.objects.filter(client=client, provider_id=point_id).count() == 1
    fake.remove_point(health_user, night)
    delete = fake.notification(health_user, "sleep", start, end, operation="DELETE")
    for body in (delete, upsert, delete):
        deliver(public_client, body, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        assert not SleepSession.objects.filter(client=client, provider_id=point_id).exists()


def test_a_health_user_of_gym_a_never_writes_into_gym_b(
    gym_a, gym_b, public_client, fake, django_capture_on_commit_callbacks
) -> None:
    _u, client_of_a = make_client(gym_a, "a-fitbit@alpha.example")
    user_a = fake.add_user()
    connect(
        gym_a,
        client_of_a,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity"],
        user=user_a,
    )
    _u, client_of_b = make_client(gym_b, "b-fitbit@bravo.example")
    user_b = fake.add_user()
    connect(
        gym_b,
        client_of_b,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity"],
        user=user_b,
    )

    today = _today()
    fake.set_rollup(user_a, "steps", today, {"countSum": "12345"})
    now = datetime.now(UTC)
    deliver(
        public_client,
        fake.notification(user_a, "steps", now - timedelta(hours=1), now),
        django_capture_on_commit_callbacks,
    )
    with tenant_context(gym_a):
        assert (
            DailyActivity.objects.get(client=client_of_a, provider_id=today.isoformat()).steps
            == 12345
        )
    with tenant_context(gym_b):
        assert not DailyActivity.objects.filter(steps=12345).exists()
        assert Connection.objects.get(client=client_of_b).status == ConnectionStatus.ACTIVE
    # A notification naming a user nobody connected goes nowhere.
    stranger = fake.add_user()
    response = deliver(
        public_client,
        fake.notification(stranger, "steps", now - timedelta(hours=1), now),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 204
    # Gym B's client cannot disconnect gym A's connection through the portal: they have none.
    with tenant_context(gym_a):
        assert Connection.objects.get(client=client_of_a).status == ConnectionStatus.ACTIVE


def test_sync_pulls_what_changed_since_the_last_sync(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "sync@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity", "sleep"],
        user=health_user,
    )
    fake.set_rollup(health_user, "steps", _today(), {"countSum": "5555"})
    night = add_sleep(fake, health_user, end=datetime.now(UTC) - timedelta(hours=1))
    with tenant_context(gym_a):
        assert services.sync(connection_id=connection.pk) == 2
        assert (
            DailyActivity.objects.get(client=client, provider_id=_today().isoformat()).steps == 5555
        )
        assert SleepSession.objects.filter(provider_id=night["name"].rsplit("/", 1)[1]).exists()
    # The sync reads from a day before the last one, not 30 days again.
    rollup = [r for r in fake.requests if r[1].endswith("/steps/dataPoints:dailyRollUp")]
    assert len(rollup) == 4  # 3 ranges on connect, 1 on sync


# --- Pagination, the rate limit, revocation ---------------------------------------------------


def test_daily_rollups_are_read_page_by_page_in_14_day_ranges(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "pages@alpha.example")
    health_user = fake.add_user()
    for n in range(30):
        fake.set_rollup(health_user, "steps", _today() - timedelta(days=n), {"countSum": str(n)})
    connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity"],
        user=health_user,
    )
    rollups = [r for r in fake.requests if r[1].endswith("/steps/dataPoints:dailyRollUp")]
    # 31 days in three 14-day ranges, the fake's pages 7 days long: 2 + 2 + 1 requests.
    assert len(rollups) == 5
    with tenant_context(gym_a):
        assert DailyActivity.objects.filter(client=client).count() == 30


def test_a_429_backs_off_for_retry_after_and_spares_other_users(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "busy@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity"],
        user=health_user,
    )
    fake.throttle(health_user, retry_after=42)
    with tenant_context(gym_a), pytest.raises(api.RateLimitedError) as raised:
        services.sync(connection_id=connection.pk)
    assert raised.value.retry_after == 42
    assert 40 <= api.budget_blocked_for(user=health_user) <= 42
    calls = len(fake.requests)
    with tenant_context(gym_a), pytest.raises(api.RateLimitedError):
        services.sync(connection_id=connection.pk)
    assert len(fake.requests) == calls  # nobody called Google for that user meanwhile
    assert api.budget_blocked_for(user=fake.add_user()) == 0


def test_the_task_records_the_failure_and_retries_after_the_wait(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    from celery.exceptions import Retry

    from apps.wearables.providers.google_health.tasks import google_health_backfill_task

    _user, client = make_client(gym_a, "retry@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a, client, fake, django_capture_on_commit_callbacks, kinds=["sleep"], user=health_user
    )
    fake.throttle(health_user, retry_after=90)
    with tenant_context(gym_a):
        # Called directly, Celery's retry() re-raises the error instead of queueing the retry.
        with pytest.raises((Retry, api.RateLimitedError)):
            google_health_backfill_task(connection.pk)
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.ERROR
        assert "rate limit" in connection.last_error
        assert connection.next_attempt_at > timezone.now() + timedelta(seconds=90)


def test_per_user_budget_stops_before_google_does(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "budget@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["heart_rate"],
        user=health_user,
    )
    calls = len(fake.requests)
    with (
        override_settings(GOOGLE_HEALTH_RATE_LIMIT_PER_MINUTE=0),
        tenant_context(gym_a),
        pytest.raises(api.RateLimitedError),
    ):
        services.sync(connection_id=connection.pk)
    assert len(fake.requests) == calls


def test_an_invalid_grant_disconnects_and_tells_the_client(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    from apps.notifications.models import Delivery

    _user, client = make_client(gym_a, "revoked@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity"],
        user=health_user,
    )
    # Removed in their Google Account: the tokens die (401, then invalid_grant on refresh).
    fake.revoke_user(health_user)
    with (
        tenant_context(gym_a),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(api.AccessRevokedError),
    ):
        services.sync(connection_id=connection.pk)
    with tenant_context(gym_a):
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.access_token == connection.refresh_token == ""
        assert Delivery.objects.filter(
            event_key__startswith=f"wearable_disconnected:{connection.pk}:"
        ).exists()
    assert not WearableAccount.objects.filter(provider_user_id=health_user).exists()


def test_a_refresh_keeps_the_refresh_token_google_did_not_resend(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    from apps.wearables.services import connection_access_token

    _user, client = make_client(gym_a, "refresh@alpha.example")
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["sleep"],
        user=fake.add_user(),
    )
    with tenant_context(gym_a):
        refresh_before = Connection.objects.get(pk=connection.pk).refresh_token
        fresh = connection_access_token(connection_id=connection.pk, force_refresh=True)
        stored = Connection.objects.get(pk=connection.pk)
        assert stored.access_token == fresh != connection.access_token
        assert stored.refresh_token == refresh_before
    assert fake.refreshes == 1


def test_disconnect_revokes_at_google_and_deletes_the_tokens(
    gym_a, client_a, fake, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "quitter@alpha.example")
    health_user = fake.add_user()
    connect(
        gym_a, client, fake, django_capture_on_commit_callbacks, kinds=["sleep"], user=health_user
    )
    client_a.force_login(user)
    response = client_a.post("/portal/activity/google_health/disconnect/")
    assert response.status_code == 302
    assert ("POST", "/revoke") in fake.requests
    assert not fake.refresh_tokens  # the whole grant is gone at Google
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.refresh_token == ""
    assert not WearableAccount.objects.filter(provider_user_id=health_user).exists()


def test_values_out_of_range_or_in_the_future_are_skipped(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "odd@alpha.example")
    health_user = fake.add_user()
    today = _today()
    fake.set_rollup(health_user, "steps", today, {"countSum": "9000000"})
    fake.set_rollup(health_user, "steps", today - timedelta(days=1), {"countSum": "-5"})
    fake.set_rollup(health_user, "steps", today - timedelta(days=2), {"countSum": "7000"})
    fake.add_point(
        health_user,
        "weight",
        {
            "sampleTime": {"physicalTime": iso(datetime.now(UTC) - timedelta(hours=1))},
            "weightGrams": 900_000,
        },
    )
    connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["activity", "body"],
        user=health_user,
    )
    with tenant_context(gym_a):
        assert list(
            DailyActivity.objects.filter(client=client).values_list("steps", flat=True)
        ) == [7000]
        from apps.progress.models import BodyMeasurement

        assert not BodyMeasurement.objects.filter(client=client).exists()


def test_a_410_explains_the_switched_off_endpoint(
    gym_a, fake, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "gone@alpha.example")
    health_user = fake.add_user()
    connection = connect(
        gym_a,
        client,
        fake,
        django_capture_on_commit_callbacks,
        kinds=["heart_rate"],
        user=health_user,
    )
    fake.gone.add("daily-resting-heart-rate")
    with tenant_context(gym_a), pytest.raises(api.ProviderError, match="switched off"):
        services.sync(connection_id=connection.pk)


# --- Two workers refreshing at once -----------------------------------------------------------


def test_two_workers_refreshing_at_once_lose_no_token(fake) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db

    from apps.tenants.models import Gym
    from tests.conftest import BROWSER
    from tests.scheduling.test_classes import _in_own_connection

    health_user = fake.add_user()
    token = fake._issue(health_user, {api.scope("sleep")}, "grant-race")
    refresh_token = "1//race-" + health_user
    fake.refresh_tokens[refresh_token] = (health_user, {api.scope("sleep")}, "grant-race")

    def set_up():  # type: ignore[no-untyped-def]
        gym = Gym.objects.get(subdomain=BROWSER.subdomain)
        _u, client = make_client(gym, f"race-{health_user}@charlie.example")
        with tenant_context(gym):
            row = Connection.objects.create(
                client=client,
                provider="google_health",
                provider_user_id=health_user,
                access_token=token["access_token"],
                refresh_token=refresh_token,
                expires_at=timezone.now() - timedelta(minutes=1),
            )
        return gym, client, row.pk

    gym, client, connection_id = _in_own_connection(set_up)

    def worker(_i: int) -> str:
        from apps.wearables.services import connection_access_token

        try:
            with tenant_context(gym):
                return connection_access_token(connection_id=connection_id)
        finally:
            db.close()

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            tokens = list(pool.map(worker, range(2)))
        assert tokens[0] == tokens[1]
        assert fake.refreshes == 1

        def stored():  # type: ignore[no-untyped-def]
            with tenant_context(gym):
                row = Connection.objects.get(pk=connection_id)
                return row.access_token, row.refresh_token

        access, refresh = _in_own_connection(stored)
        assert access == tokens[0]
        assert refresh == refresh_token  # Google sent none back: the one we had is kept
    finally:

        def clean_up() -> None:
            with tenant_context(gym):
                Connection.objects.filter(pk=connection_id).delete()
                user = client.user
                client.delete()
                user.delete()

        _in_own_connection(clean_up)
