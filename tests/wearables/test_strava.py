"""Strava end to end against the loopback fake: connect, backfill, webhooks, revocation, the
shared rate budget and the token refresh race."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.wearables import services
from apps.wearables.integrations import strava
from apps.wearables.integrations.budget import budget_blocked_for
from apps.wearables.models import Connection, ConnectionStatus, ExternalWorkout
from apps.wearables.routing.models import WearableAccount
from tests.wearables.conftest import VERIFY_TOKEN, make_client

pytestmark = pytest.mark.django_db
REDIRECT = "http://localhost/integrations/strava/callback/"
WEBHOOK = "/integrations/strava/webhook/"


def connect(gym, client, fake, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    url = services.strava_authorize_url(
        gym=gym, client_id=client.pk, user_id=client.user_id, kinds=[], redirect_uri=REDIRECT
    )
    params = dict(parse_qsl(urlsplit(fake.consent(url)).query))
    with django_capture_on_commit_callbacks(execute=True):
        return services.strava_connect(
            gym=gym,
            client_id=client.pk,
            user_id=client.user_id,
            kinds=["workouts"],
            code=params["code"],
            granted=params["scope"],
            redirect_uri=REDIRECT,
        )


def post_event(public_client, event, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(WEBHOOK, data=event, content_type="application/json")
    assert response.status_code == 200
    return response


def test_a_client_connects_from_the_portal_and_gets_30_days_of_workouts(
    gym_a, client_a, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "runner@alpha.example")
    athlete = fake_strava.add_athlete()
    for day in range(150):  # two pages of 100, all within 30 days
        fake_strava.add_activity(athlete, days_ago=day / 5 + 0.1)
    fake_strava.add_activity(athlete, days_ago=40)
    client_a.force_login(user)

    start = client_a.get("/portal/activity/strava/connect/")
    assert start.status_code == 302
    callback = urlsplit(fake_strava.consent(start["Location"]))
    assert callback.path == "/integrations/strava/callback/"
    with django_capture_on_commit_callbacks(execute=True):
        done = public_client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302
    assert done["Location"].startswith("http://alpha.localhost/portal/activity/?result=connected")

    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.ACTIVE
        assert connection.provider_user_id == str(athlete)
        assert "activity:read_all" in connection.scopes
        assert ExternalWorkout.objects.filter(client=client).count() == 150
        assert connection.last_sync_at is not None
    assert WearableAccount.objects.filter(gym=gym_a, provider_user_id=str(athlete)).exists()
    assert ("GET", "/api/v3/athlete/activities") in fake_strava.requests

    page = client_a.get("/portal/activity/")
    assert page.status_code == 200
    assert b"Morning Run" in page.content


def test_a_callback_without_the_activity_scope_or_with_a_forged_state_connects_nothing(
    gym_a, client_a, public_client, fake_strava
) -> None:
    user, client = make_client(gym_a, "shy@alpha.example")
    client_a.force_login(user)
    start = client_a.get("/portal/activity/strava/connect/")
    callback = urlsplit(fake_strava.consent(start["Location"], grant="read"))
    done = public_client.get(f"{callback.path}?{callback.query}")
    assert "result=refused" in done["Location"]
    forged = public_client.get(f"{callback.path}?state=gym_bravo&code=x&scope=activity:read_all")
    assert forged.status_code == 400
    with tenant_context(gym_a):
        assert not Connection.objects.filter(client=client, status="active").exists()


def test_the_subscription_validation_echoes_the_challenge_only_with_our_verify_token(
    public_client, fake_strava
) -> None:
    query = fake_strava.validation_query(VERIFY_TOKEN)
    response = public_client.get(WEBHOOK, query)
    assert response.status_code == 200
    assert response.json() == {"hub.challenge": query["hub.challenge"]}
    assert public_client.get(WEBHOOK, fake_strava.validation_query("guess")).status_code == 403


def test_every_event_twice_and_out_of_order_gives_one_row(
    gym_a, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "events@alpha.example")
    athlete = fake_strava.add_athlete()
    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    activity = fake_strava.add_activity(athlete, name="Tempo")
    update = fake_strava.event("activity", activity["id"], "update", owner_id=athlete)
    create = fake_strava.event("activity", activity["id"], "create", owner_id=athlete)
    for event in (update, create, update, create):
        post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        rows = ExternalWorkout.objects.filter(client=client, provider_id=str(activity["id"]))
        assert rows.count() == 1
        assert rows.get().name == "Tempo"

    # Deleted at Strava: the delete, then a late create re-delivered, leave nothing.
    del fake_strava.athletes[athlete][activity["id"]]
    delete = fake_strava.event("activity", activity["id"], "delete", owner_id=athlete)
    for event in (delete, create, delete):
        post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        assert not ExternalWorkout.objects.filter(provider_id=str(activity["id"])).exists()


def test_a_strava_athlete_of_gym_a_never_writes_into_gym_b(
    gym_a, gym_b, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _u, client_of_a = make_client(gym_a, "a-runner@alpha.example")
    athlete_a = fake_strava.add_athlete()
    connect(gym_a, client_of_a, fake_strava, django_capture_on_commit_callbacks)
    _u, client_of_b = make_client(gym_b, "b-runner@bravo.example")
    fake_strava.add_athlete()
    connect(gym_b, client_of_b, fake_strava, django_capture_on_commit_callbacks)

    activity = fake_strava.add_activity(athlete_a)
    event = fake_strava.event("activity", activity["id"], "create", owner_id=athlete_a)
    post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        assert ExternalWorkout.objects.filter(provider_id=str(activity["id"])).count() == 1
    with tenant_context(gym_b):
        assert not ExternalWorkout.objects.filter(provider_id=str(activity["id"])).exists()
        assert Connection.objects.get(client=client_of_b).status == ConnectionStatus.ACTIVE
    # A revocation of A's athlete does not touch B's connection either.
    revoke = fake_strava.event(
        "athlete", athlete_a, "update", owner_id=athlete_a, updates={"authorized": "false"}
    )
    post_event(public_client, revoke, django_capture_on_commit_callbacks)
    with tenant_context(gym_b):
        assert Connection.objects.get(client=client_of_b).status == ConnectionStatus.ACTIVE


def test_authorized_false_disconnects_forgets_the_tokens_and_tells_the_client(
    gym_a, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    from apps.notifications.models import Delivery

    _user, client = make_client(gym_a, "leaver@alpha.example")
    athlete = fake_strava.add_athlete()
    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    event = fake_strava.event(
        "athlete", athlete, "update", owner_id=athlete, updates={"authorized": "false"}
    )
    post_event(public_client, event, django_capture_on_commit_callbacks)
    post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.access_token == connection.refresh_token == ""
        assert Delivery.objects.filter(event_key__startswith="wearable_disconnected:").exists()
    assert not WearableAccount.objects.filter(provider_user_id=str(athlete)).exists()


def test_a_revoked_token_disconnects_on_the_next_call(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "revoked@alpha.example")
    athlete = fake_strava.add_athlete()
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    activity = fake_strava.add_activity(athlete)
    fake_strava.revoke(athlete)
    event = fake_strava.event("activity", activity["id"], "create", owner_id=athlete)
    with tenant_context(gym_a), pytest.raises(strava.AccessRevokedError):
        services.strava_event_process(connection_id=connection.pk, event=event)
    with tenant_context(gym_a):
        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.DISCONNECTED


def test_disconnect_calls_deauthorize_and_deletes_the_tokens(
    gym_a, client_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "quitter@alpha.example")
    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    client_a.force_login(user)
    response = client_a.post("/portal/activity/strava/disconnect/")
    assert response.status_code == 302
    assert ("POST", "/oauth/deauthorize") in fake_strava.requests
    with tenant_context(gym_a):
        connection = Connection.objects.get(client=client)
        assert connection.status == ConnectionStatus.DISCONNECTED
        assert connection.refresh_token == ""


def test_a_429_stops_every_gym_until_the_window_turns(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "busy@alpha.example")
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    fake_strava.limit_15min = 0
    with tenant_context(gym_a), pytest.raises(strava.RateLimitedError) as raised:
        services.strava_backfill(connection_id=connection.pk)
    assert raised.value.retry_after > 0
    assert budget_blocked_for(provider="strava") > 0
    calls = len(fake_strava.requests)
    # Another gym's call does not even reach Strava.
    with pytest.raises(strava.RateLimitedError):
        strava.api_get(access_token="x", path="/athlete/activities")
    assert len(fake_strava.requests) == calls


# --- Two workers refreshing at once -----------------------------------------------------------


def test_two_workers_refreshing_at_once_lose_no_token(fake_strava) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db

    from apps.tenants.models import Gym
    from tests.conftest import BROWSER
    from tests.scheduling.test_classes import _in_own_connection

    athlete = fake_strava.add_athlete()
    token = fake_strava._issue(athlete)

    def set_up():  # type: ignore[no-untyped-def]
        gym = Gym.objects.get(subdomain=BROWSER.subdomain)
        _u, client = make_client(gym, f"race-{athlete}@charlie.example")
        with tenant_context(gym):
            row = Connection.objects.create(
                client=client,
                provider="strava",
                provider_user_id=str(athlete),
                access_token=token["access_token"],
                refresh_token=token["refresh_token"],
                expires_at=timezone.now() - timedelta(minutes=1),
            )
        return gym, client, row.pk

    gym, client, connection_id = _in_own_connection(set_up)

    def worker(_i: int) -> str:
        try:
            with tenant_context(gym):
                return services.connection_access_token(connection_id=connection_id)
        finally:
            db.close()

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            tokens = list(pool.map(worker, range(2)))
        assert tokens[0] == tokens[1]
        assert fake_strava.refreshes == 1

        def stored():  # type: ignore[no-untyped-def]
            with tenant_context(gym):
                return Connection.objects.get(pk=connection_id).refresh_token

        # The stored refresh token is the newest one: Strava still accepts it.
        assert fake_strava.refresh_tokens.get(_in_own_connection(stored)) == athlete
    finally:

        def clean_up() -> None:
            with tenant_context(gym):
                Connection.objects.filter(pk=connection_id).delete()
                user = client.user
                client.delete()
                user.delete()

        _in_own_connection(clean_up)


def test_the_fakes_consent_page_checks_the_request_as_strava_does(gym_a, fake_strava) -> None:
    import html
    import re

    import httpx

    url = services.strava_authorize_url(
        gym=gym_a, client_id=1, user_id=1, kinds=[], redirect_uri=REDIRECT
    )
    page = httpx.get(url, timeout=5)
    assert page.status_code == 200
    links = {
        name: urlsplit(html.unescape(href))
        for href, name in re.findall(r'<a id="\w+" href="([^"]+)">(\w+)</a>', page.text)
    }
    assert links["Authorize"].path == urlsplit(REDIRECT).path
    assert {"code", "scope", "state"} <= dict(parse_qsl(links["Authorize"].query)).keys()
    assert dict(parse_qsl(links["Cancel"].query))["error"] == "access_denied"
    refused = httpx.get(url.replace("client_id=", "client_id=9"), timeout=5)
    assert refused.status_code == 400
    assert "client_id" in refused.text
