"""Garmin end to end against the loopback fake: connect with PKCE, backfill, push and ping
deliveries, deregistration, permission changes, the token refresh race, 429s and the webhook's
checks."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.wearables.integrations import garmin
from apps.wearables.integrations.budget import budget_blocked_for
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    ExternalWorkout,
    HeartRateDay,
    SleepSession,
)
from apps.wearables.providers.garmin import services
from apps.wearables.providers.pkce import pkce_finish, pkce_start
from apps.wearables.routing.models import WearableAccount
from apps.wearables.services import OAuthStateInvalidError
from tests.fakes.garmin import FakeGarmin
from tests.wearables.conftest import make_client

pytestmark = pytest.mark.django_db
REDIRECT = "http://localhost/integrations/garmin/callback/"
WEBHOOK = "/integrations/garmin/webhook/"


@pytest.fixture
def fake_garmin():
    fake = FakeGarmin(client_id="garmin-app-1", client_secret="garmin-secret").start()
    with override_settings(**fake.settings):
        yield fake
    fake.stop()


def connect(gym, client, fake, capture, *, kinds=None):  # type: ignore[no-untyped-def]
    """Connect through the fake's consent as the portal's link would; the Garmin userId."""
    user = fake.add_user()
    url = services.garmin_authorize_url(
        gym=gym,
        client_id=client.pk,
        user_id=client.user_id,
        kinds=kinds or [],
        redirect_uri=REDIRECT,
    )
    params = dict(parse_qsl(urlsplit(fake.consent(url, user=user)).query))
    found_gym, state, verifier = pkce_finish(state=params["state"], provider="garmin")
    with capture(execute=True):
        services.garmin_connect(
            gym=found_gym,
            client_id=client.pk,
            user_id=client.user_id,
            kinds=state["kinds"],
            code=params["code"],
            code_verifier=verifier,
            redirect_uri=REDIRECT,
        )
    return user


def deliver(public_client, payload, capture, *, client_id="garmin-app-1"):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return public_client.post(
            WEBHOOK,
            data=json.dumps(payload),
            content_type="application/json",
            headers={"garmin-client-id": client_id},
        )


def test_a_client_connects_from_the_portal_with_pkce_and_gets_30_days(
    gym_a, client_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "walker@alpha.example")
    garmin_user = fake_garmin.add_user()
    for day in range(1, 4):
        fake_garmin.daily(garmin_user, days_ago=day, steps=1000 * day)
        fake_garmin.sleep(garmin_user, days_ago=day)
    fake_garmin.activity(garmin_user, days_ago=2)
    fake_garmin.body_comp(garmin_user, days_ago=2)
    fake_garmin.daily(garmin_user, days_ago=45)  # outside the 30 days
    client_a.force_login(user)

    start = client_a.get("/portal/activity/garmin/connect/?kind=activity&kind=sleep&kind=body")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(fake_garmin.url + "/oauth2Confirm?")
    assert "code_verifier" not in authorize
    # Garmin's consent page accepts the request (client id, S256 challenge, redirect URI).
    assert 'id="agree"' in httpx.get(authorize).text
    callback = urlsplit(fake_garmin.consent(authorize))
    assert callback.path == "/integrations/garmin/callback/"
    with django_capture_on_commit_callbacks(execute=True):
        done = public_client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302
    assert done["Location"].startswith("http://alpha.localhost/portal/activity/?result=connected")

    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client, provider="garmin")
        assert connection.status == ConnectionStatus.ACTIVE
        assert connection.provider_user_id == garmin_user
        assert connection.kind_list == ["activity", "sleep", "body"]
        assert connection.refresh_token in fake_garmin.refresh_tokens
    assert WearableAccount.objects.filter(
        gym=gym_a, provider="garmin", provider_user_id=garmin_user
    ).exists()
    # Only the chosen kinds' summaries are asked for, 30 days back.
    requested = {kind for _u, kind, _s, _e in fake_garmin.backfills}
    assert requested == {"dailies", "sleeps", "bodyComps"}
    _u, _k, first, last = fake_garmin.backfills[0]
    assert 29 * 86400 < last - first <= 30 * 86400 + 5

    # Garmin then pushes the backfill to the webhook.
    def post(body, headers):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            response = public_client.post(
                WEBHOOK, data=json.dumps(body), content_type="application/json", headers=headers
            )
        assert response.status_code == 200

    assert fake_garmin.flush(post) == 3
    with tenant_context(gym_a):
        assert DailyActivity.objects.filter(client=client, provider="garmin").count() == 3
        assert SleepSession.objects.filter(client=client, provider="garmin").count() == 3
        # Heart rate and workouts were not chosen.
        assert not HeartRateDay.objects.filter(client=client).exists()
        assert not ExternalWorkout.objects.filter(client=client).exists()
        from apps.progress.models import BodyMeasurement

        reading = BodyMeasurement.objects.get(client=client)
        assert str(reading.weight_kg) == "75.450"
        sleep = SleepSession.objects.filter(client=client).first()
        assert sleep.deep_minutes == 100
        assert sleep.rem_minutes == 105
        assert sleep.time_zone == "Etc/GMT-1"

    # The callback is one-shot: its PKCE verifier is gone.
    again = public_client.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 400


def test_the_token_endpoint_refuses_a_wrong_verifier_or_redirect_uri(gym_a, fake_garmin) -> None:
    _user, client = make_client(gym_a, "pkce@alpha.example")
    state, challenge = pkce_start(
        gym=gym_a, client_id=client.pk, user_id=client.user_id, kinds=[], provider="garmin"
    )
    url = garmin.authorize_url(redirect_uri=REDIRECT, state=state, code_challenge=challenge)
    _gym, _data, verifier = pkce_finish(state=state, provider="garmin")

    def code() -> str:
        return dict(parse_qsl(urlsplit(fake_garmin.consent(url)).query))["code"]

    with pytest.raises(garmin.AccessRevokedError, match="PKCE"):
        garmin.exchange_code(code=code(), code_verifier="x" * 64, redirect_uri=REDIRECT)
    with pytest.raises(garmin.AccessRevokedError, match="redirect_uri"):
        garmin.exchange_code(
            code=code(), code_verifier=verifier, redirect_uri="http://localhost/elsewhere/"
        )
    with override_settings(GARMIN_CLIENT_SECRET="wrong"), pytest.raises(garmin.ProviderError):
        garmin.exchange_code(code=code(), code_verifier=verifier, redirect_uri=REDIRECT)
    token = garmin.exchange_code(code=code(), code_verifier=verifier, redirect_uri=REDIRECT)
    assert token["access_token"]
    assert token["refresh_token"]
    # A state is good for one callback only, and only for the provider it was signed for.
    with pytest.raises(OAuthStateInvalidError):
        pkce_finish(state=state, provider="garmin")
    other, _c = pkce_start(gym=gym_a, client_id=client.pk, user_id=1, kinds=[], provider="x")
    with pytest.raises(OAuthStateInvalidError):
        pkce_finish(state=other, provider="garmin")


def test_declined_consent_and_forged_state_connect_nothing(
    gym_a, client_a, public_client, fake_garmin
) -> None:
    user, client = make_client(gym_a, "declines@alpha.example")
    client_a.force_login(user)
    start = client_a.get("/portal/activity/garmin/connect/")
    callback = urlsplit(fake_garmin.consent(start["Location"], deny=True))
    done = public_client.get(f"{callback.path}?{callback.query}")
    assert "result=cancelled" in done["Location"]
    forged = public_client.get(f"{callback.path}?state=gym_bravo&code=x")
    assert forged.status_code == 400
    with tenant_context(gym_a):
        assert not Connection.objects.filter(client=client).exists()


def test_every_push_twice_and_out_of_order_gives_one_row_each(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "pusher@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    morning = fake_garmin.daily(user, days_ago=1, steps=3000, durationInSeconds=36000)
    evening = {**morning, "steps": 9500, "durationInSeconds": 86400}
    # The full day re-sent under a summaryId of its own (Garmin's ids carry the duration).
    full_day = {**evening, "summaryId": morning["summaryId"] + "-15180", "steps": 9600}
    sleep = fake_garmin.sleep(user, days_ago=1)
    run = fake_garmin.activity(user, days_ago=1)
    weigh_in = fake_garmin.body_comp(user, days_ago=1)
    for payload in (
        {"dailies": [evening]},
        {"dailies": [morning]},  # older, arriving late: ignored
        {"dailies": [evening], "sleeps": [sleep], "activities": [run]},
        {"sleeps": [sleep], "activities": [run], "bodyComps": [weigh_in]},
        {"bodyComps": [weigh_in]},
        {"dailies": [full_day]},
        {"dailies": [morning, evening]},
    ):
        assert deliver(public_client, payload, capture).status_code == 200
    with tenant_context(gym_a):
        day = DailyActivity.objects.get(client=client, provider="garmin")
        assert day.steps == 9600
        assert day.provider_id == full_day["summaryId"]
        assert day.calories_kcal == 321 + 1731
        assert HeartRateDay.objects.get(client=client, provider="garmin").resting_bpm == 54
        assert SleepSession.objects.filter(client=client).count() == 1
        workout = ExternalWorkout.objects.get(client=client, provider="garmin")
        assert workout.sport == "RUNNING"
        assert workout.distance_m is not None
        from apps.progress.models import BodyMeasurement

        assert BodyMeasurement.objects.filter(client=client).count() == 1


def test_items_that_fail_the_checks_are_skipped_not_stored(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "odd@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    future = fake_garmin.daily(user, days_ago=-5)
    silly = fake_garmin.daily(user, days_ago=2, steps=5_000_000)
    good = fake_garmin.daily(user, days_ago=3)
    assert deliver(public_client, {"dailies": [future, silly, good]}, capture).status_code == 200
    with tenant_context(gym_a):
        assert list(
            DailyActivity.objects.filter(client=client).values_list("provider_id", flat=True)
        ) == [good["summaryId"]]


def test_a_ping_is_fetched_with_the_users_token(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "pinged@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    run = fake_garmin.activity(user, days_ago=1, activityName="Intervals")
    notification = fake_garmin.ping(user, "activities", [run])
    assert deliver(public_client, notification, capture).status_code == 200
    assert ("GET", "/wellness-api/rest/activities") in fake_garmin.requests
    with tenant_context(gym_a):
        assert ExternalWorkout.objects.get(client=client).name == "Intervals"
    # A callbackURL anywhere but Garmin's API is refused, not fetched.
    notification["activities"][0]["callbackURL"] = "http://169.254.169.254/latest/meta-data"
    assert deliver(public_client, notification, capture).status_code == 400


def test_a_deregistration_disconnects_and_tells_the_client(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    from apps.notifications.models import Delivery

    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "leaver@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    for _twice in range(2):
        assert deliver(public_client, fake_garmin.deregistration(user), capture).status_code == 200
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.access_token == connection.refresh_token == ""
        told = Delivery.objects.filter(event_key__startswith="wearable_disconnected:")
        # One notification (in the app and by email), not one per delivery.
        assert told.values("event_key").distinct().count() == 1
    assert not WearableAccount.objects.filter(provider_user_id=user).exists()
    # Later deliveries for the user go nowhere.
    daily = fake_garmin.daily(user)
    assert deliver(public_client, {"dailies": [daily]}, capture).status_code == 200
    with tenant_context(gym_a):
        assert not DailyActivity.objects.filter(client=client).exists()


def test_a_permission_change_narrows_what_is_stored_and_none_left_disconnects(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "private@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    change = fake_garmin.permissions_change(user, ["ACTIVITY_EXPORT"])
    assert deliver(public_client, change, capture).status_code == 200
    daily, run = fake_garmin.daily(user), fake_garmin.activity(user)
    assert (
        deliver(public_client, {"dailies": [daily], "activities": [run]}, capture).status_code
        == 200
    )
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.ACTIVE
        assert connection.scopes == "ACTIVITY_EXPORT"
        assert not DailyActivity.objects.filter(client=client).exists()
        assert ExternalWorkout.objects.filter(client=client).count() == 1
    assert (
        deliver(public_client, fake_garmin.permissions_change(user, []), capture).status_code == 200
    )
    with tenant_context(gym_a):
        assert Connection.objects.get(client=client).status == ConnectionStatus.DISCONNECTED


def test_a_garmin_user_of_gym_a_never_writes_into_gym_b(
    gym_a, gym_b, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client_of_a = make_client(gym_a, "a-walker@alpha.example")
    user_a = connect(gym_a, client_of_a, fake_garmin, capture)
    _u, client_of_b = make_client(gym_b, "b-walker@bravo.example")
    connect(gym_b, client_of_b, fake_garmin, capture)

    daily = fake_garmin.daily(user_a)
    assert deliver(public_client, {"dailies": [daily]}, capture).status_code == 200
    with tenant_context(gym_a):
        assert DailyActivity.objects.filter(provider_id=daily["summaryId"]).count() == 1
    with tenant_context(gym_b):
        assert not DailyActivity.objects.filter(provider="garmin").exists()
    assert deliver(public_client, fake_garmin.deregistration(user_a), capture).status_code == 200
    with tenant_context(gym_b):
        assert Connection.objects.get(client=client_of_b).status == ConnectionStatus.ACTIVE


def test_the_webhook_refuses_another_client_id_and_malformed_bodies(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "spoofed@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    daily = fake_garmin.daily(user)
    assert (
        deliver(public_client, {"dailies": [daily]}, capture, client_id="other").status_code == 403
    )
    no_header = public_client.post(
        WEBHOOK, data=json.dumps({"dailies": [daily]}), content_type="application/json"
    )
    assert no_header.status_code == 403
    with tenant_context(gym_a):
        assert not DailyActivity.objects.filter(client=client).exists()
    for body, field in (
        ("{not json", ""),
        ([daily], "body"),
        ({"dailies": daily}, "dailies"),
        ({"dailies": ["x"]}, "dailies[0]"),
        ({"dailies": [{"summaryId": "1"}]}, "dailies[0].userId"),
        ({"sleeps": [{"userId": user}]}, "sleeps[0].summaryId"),
        ({"userPermissionsChange": [{"userId": user, "permissions": "all"}]}, "permissions"),
    ):
        raw = body if isinstance(body, str) else json.dumps(body)
        with capture(execute=True):
            response = public_client.post(
                WEBHOOK,
                data=raw,
                content_type="application/json",
                headers={"garmin-client-id": "garmin-app-1"},
            )
        assert response.status_code == 400, body
        assert field in response.content.decode()
    # Types we do not store are accepted and ignored (Garmin would retry a refusal for days).
    assert deliver(public_client, {"epochs": [{"userId": user}]}, capture).status_code == 200


def test_a_429_backs_off_as_retry_after_says_for_every_gym(
    gym_a, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    _u, client = make_client(gym_a, "busy@alpha.example")
    connect(gym_a, client, fake_garmin, django_capture_on_commit_callbacks)
    fake_garmin.throttle(300)
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        with pytest.raises(garmin.RateLimitedError) as raised:
            services.sync(connection_id=connection.pk)
    assert 290 <= raised.value.retry_after <= 300
    assert budget_blocked_for(provider="garmin") > 0
    calls = len(fake_garmin.requests)
    with pytest.raises(garmin.RateLimitedError):
        garmin.user_id(access_token="another gym's token")
    assert len(fake_garmin.requests) == calls
    # The task records the failure and when it tries again.
    from apps.wearables.services.retry import task_retry

    class Request:
        retries = 0

    class Task:
        request = Request()

        def retry(self, exc, countdown):  # type: ignore[no-untyped-def]
            return exc

    with tenant_context(gym_a):
        task_retry(Task(), connection.pk, raised.value)
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.ERROR
        assert connection.next_attempt_at > timezone.now() + timedelta(seconds=290)


def test_sync_asks_for_what_came_since_the_last_sync(
    gym_a, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    _u, client = make_client(gym_a, "syncs@alpha.example")
    connect(gym_a, client, fake_garmin, django_capture_on_commit_callbacks, kinds=["workouts"])
    fake_garmin.backfills.clear()
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        last = timezone.now() - timedelta(days=3)
        Connection.objects.filter(pk=connection.pk).update(last_sync_at=last)
        assert services.sync(connection_id=connection.pk) == 1
        assert Connection.objects.get(pk=connection.pk).last_sync_at > last
    [(_user, kind, start, _end)] = fake_garmin.backfills
    assert kind == "activities"
    assert abs(start - (last - timedelta(days=1)).timestamp()) < 5


def test_disconnect_deletes_the_registration_and_the_tokens(
    gym_a, client_a, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "quitter@alpha.example")
    garmin_user = connect(gym_a, client, fake_garmin, django_capture_on_commit_callbacks)
    client_a.force_login(user)
    response = client_a.post("/portal/activity/garmin/disconnect/")
    assert response.status_code == 302
    assert ("DELETE", "/wellness-api/rest/user/registration") in fake_garmin.requests
    assert fake_garmin.users[garmin_user].get("deregistered")
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.refresh_token == connection.access_token == ""
    assert not WearableAccount.objects.filter(provider_user_id=garmin_user).exists()


# --- Two workers refreshing at once -----------------------------------------------------------


def test_two_workers_refreshing_at_once_lose_no_token(fake_garmin) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db

    from apps.tenants.models import Gym
    from apps.wearables.services import connection_access_token
    from tests.conftest import BROWSER
    from tests.scheduling.test_classes import _in_own_connection

    garmin_user = fake_garmin.add_user()
    token = fake_garmin._issue(garmin_user)

    def set_up():  # type: ignore[no-untyped-def]
        gym = Gym.objects.get(subdomain=BROWSER.subdomain)
        _u, client = make_client(gym, f"race-{garmin_user[:8]}@charlie.example")
        with tenant_context(gym):
            row = Connection.objects.create(
                client=client,
                provider="garmin",
                provider_user_id=garmin_user,
                access_token=token["access_token"],
                refresh_token=token["refresh_token"],
                expires_at=timezone.now() - timedelta(minutes=1),
            )
        return gym, client, row.pk

    gym, client, connection_id = _in_own_connection(set_up)

    def worker(_i: int) -> str:
        try:
            with tenant_context(gym):
                return connection_access_token(connection_id=connection_id)
        finally:
            db.close()

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            tokens = list(pool.map(worker, range(2)))
        assert tokens[0] == tokens[1]
        assert fake_garmin.refreshes == 1

        def stored():  # type: ignore[no-untyped-def]
            with tenant_context(gym):
                return Connection.objects.get(pk=connection_id).refresh_token

        # The stored refresh token is the newest one: Garmin still accepts it, not the old one.
        newest = _in_own_connection(stored)
        assert fake_garmin.refresh_tokens.get(newest) == garmin_user
        assert token["refresh_token"] not in fake_garmin.refresh_tokens
    finally:

        def clean_up() -> None:
            with tenant_context(gym):
                Connection.objects.filter(pk=connection_id).delete()
                user = client.user
                client.delete()
                user.delete()

        _in_own_connection(clean_up)


def test_a_user_who_revoked_us_at_garmin_is_disconnected_on_the_next_call(
    gym_a, public_client, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _u, client = make_client(gym_a, "gone@alpha.example")
    user = connect(gym_a, client, fake_garmin, capture)
    run = fake_garmin.activity(user)
    notification = fake_garmin.ping(user, "activities", [run])
    fake_garmin.revoke(user)
    # 401 on the callbackURL, then the refresh token is refused: access is gone.
    assert deliver(public_client, notification, capture).status_code == 200
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert not ExternalWorkout.objects.filter(client=client).exists()


def test_routing_a_delivery_costs_the_same_queries_whatever_its_size(
    gym_a,
    public_client,
    fake_garmin,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
) -> None:
    strangers = [fake_garmin.add_user() for _ in range(40)]
    payload = {"dailies": [fake_garmin.daily(user) for user in strangers]}
    with django_assert_max_num_queries(3):
        response = deliver(public_client, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 200


def test_disconnect_after_the_access_token_expired_still_deletes_the_registration(
    gym_a, client_a, fake_garmin, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    user, client = make_client(gym_a, "late-quitter@alpha.example")
    garmin_user = connect(gym_a, client, fake_garmin, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        # A day later: Garmin no longer takes the access token, only the refresh token.
        fake_garmin.access_tokens.pop(connection.access_token)
        Connection.objects.filter(pk=connection.pk).update(
            expires_at=timezone.now() - timedelta(hours=1)
        )
    client_a.force_login(user)
    assert client_a.post("/portal/activity/garmin/disconnect/").status_code == 302
    assert fake_garmin.users[garmin_user].get("deregistered")
    with tenant_context(gym_a):
        assert Connection.objects.get(pk=connection.pk).refresh_token == ""
