"""Wearables in the product: the client's Activity page (connect cards, trends, sync now), the
Activity card on the trainer's view of a client (only for staff who may see them) and the gym's
sync overview; bounded queries, gym B out of reach."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.tenants.selectors import gym_today
from apps.wearables import selectors
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    ExternalWorkout,
    HeartRateDay,
    NutritionDay,
    NutritionTarget,
    SleepSession,
)
from tests.wearables.conftest import make_client

pytestmark = pytest.mark.django_db


def make_trainer(gym, owner, client, email="coach@alpha.example"):  # type: ignore[no-untyped-def]
    from apps.crm import services as crm_services

    with tenant_context(gym):
        trainer = crm_services.trainer_create(
            actor=owner, email=email, first_name="Coach", last_name="Carter"
        )
        if client is not None:
            crm_services.assignment_create(actor=owner, client=client, trainer=trainer)
    return trainer.user


def schedule_workouts(client, statuses):  # type: ignore[no-untyped-def]
    """Plan days on the client's calendar, one every other day back from today, with the given
    statuses (newest first): what training adherence counts."""
    from apps.training.models import PlanDay, PlanPhase, PlanWeek, ScheduledWorkout, WorkoutPlan

    plan = WorkoutPlan.objects.create(
        name="Base block", is_template=False, client=client, start_date=gym_today()
    )
    phase = PlanPhase.objects.create(plan=plan, order=1, name="Base")
    weeks: dict[int, PlanWeek] = {}
    today = gym_today()
    for n, status in enumerate(statuses):
        if n // 7 not in weeks:
            weeks[n // 7] = PlanWeek.objects.create(plan=plan, phase=phase, number=n // 7 + 1)
        day = PlanDay.objects.create(week=weeks[n // 7], offset=n % 7)
        ScheduledWorkout.objects.create(
            client=client, plan=plan, day=day, date=today - timedelta(days=2 * n), status=status
        )


def fill_days(client, days=30):  # type: ignore[no-untyped-def]
    """A month of a client's data from two providers (Garmin wins activity by precedence)."""
    today = gym_today()
    for n in range(days):
        day = today - timedelta(days=n)
        key = day.isoformat()
        DailyActivity.objects.create(
            client=client, provider="garmin", provider_id=key, date=day, steps=8000 + n
        )
        DailyActivity.objects.create(
            client=client, provider="strava", provider_id=key, date=day, steps=100
        )
        HeartRateDay.objects.create(
            client=client, provider="garmin", provider_id=key, date=day, resting_bpm=55
        )
        start = timezone.now() - timedelta(days=n, hours=8)
        SleepSession.objects.create(
            client=client,
            provider="garmin",
            provider_id=key,
            date=day,
            start_at=start,
            end_at=start + timedelta(hours=7, minutes=30),
            asleep_minutes=420,
        )
        NutritionDay.objects.create(
            client=client, provider="myfitnesspal", provider_id=key, date=day, calories_kcal=2100
        )
        ExternalWorkout.objects.create(
            client=client,
            provider="strava",
            provider_id=f"run-{n}",
            sport="Run",
            name=f"Run {n}",
            start_at=start,
            date=day,
            duration_seconds=1800,
            distance_m=Decimal("5000.0"),
        )


def test_trends_pick_one_source_per_day_and_show_the_calorie_target(gym_a) -> None:
    _user, client = make_client(gym_a, "trends@alpha.example")
    with tenant_context(gym_a):
        fill_days(client, days=3)
        NutritionTarget.objects.create(client=client, calories_kcal=2200)
        today = gym_today()
        trends = selectors.activity_trends(
            client_id=client.pk, start=today - timedelta(days=29), end=today
        )
    assert len(trends["labels"]) == 30
    assert trends["charts"]["steps"]["values"][-1] == 8000  # Garmin's, not Strava's 100
    assert trends["charts"]["steps"]["values"][0] is None  # nothing recorded that day
    assert trends["charts"]["sleep"]["values"][-1] == 7.0
    assert trends["charts"]["resting_hr"]["values"][-1] == 55
    assert trends["charts"]["nutrition"]["target"] == 2200
    assert trends["summary"]["steps"]["days"] == 3
    assert trends["summary"]["steps"]["average"] == 8001


@override_settings(STRAVA_CLIENT_ID="4242", GARMIN_CLIENT_ID="", GOOGLE_HEALTH_CLIENT_ID="")
def test_available_providers_follow_the_settings() -> None:
    providers = [offer.provider for offer in selectors.available_providers()]
    assert "strava" in providers
    assert "garmin" not in providers
    assert "google_health" not in providers
    strava = next(o for o in selectors.available_providers() if o.provider == "strava")
    assert strava.oauth
    assert strava.url == "/portal/activity/strava/connect/"
    assert [kind for kind, _label in strava.kinds] == ["workouts"]


@override_settings(STRAVA_CLIENT_ID="4242")
def test_the_activity_page_shows_cards_charts_and_workouts_in_bounded_queries(
    gym_a, client_a, django_assert_max_num_queries
) -> None:
    user, client = make_client(gym_a, "page@alpha.example")
    client_a.force_login(user)
    with tenant_context(gym_a):
        Connection.objects.create(
            client=client, provider="strava", kinds="workouts", last_error="", status="active"
        )
        fill_days(client, days=2)
    client_a.get("/portal/activity/")  # warm caches (gym, session)
    with django_assert_max_num_queries(30):
        small = client_a.get("/portal/activity/")
    with tenant_context(gym_a):
        fill_days_more = 28
        for n in range(2, 2 + fill_days_more):
            day = gym_today() - timedelta(days=n)
            DailyActivity.objects.create(
                client=client, provider="garmin", provider_id=f"x{n}", date=day, steps=5000
            )
    with django_assert_max_num_queries(30) as captured:
        page = client_a.get("/portal/activity/?days=90")
    assert len(captured.captured_queries) <= 30
    assert small.status_code == page.status_code == 200
    html = page.content.decode()
    assert 'id="activity-chart-data"' in html
    assert 'data-activity-chart="steps"' in html
    assert "Run 0" in html
    assert 'data-testid="provider-strava"' in html
    assert "/portal/activity/strava/sync/" in html  # sync now on the connected provider
    data = json.loads(
        re.search(r'id="activity-chart-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    )
    assert len(data["labels"]) == 90


def test_sync_now_from_the_portal_is_refused_a_second_time_within_minutes(
    gym_a, client_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "syncnow@alpha.example")
    athlete = fake_strava.add_athlete()
    fake_strava.add_activity(athlete, name="Evening Run")
    from tests.wearables.test_strava import connect

    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    client_a.force_login(user)
    fake_strava.add_activity(athlete, name="Fresh Run")
    with django_capture_on_commit_callbacks(execute=True):
        first = client_a.post("/portal/activity/strava/sync/", follow=True)
    assert first.status_code == 200
    assert b"is syncing" in first.content
    with tenant_context(gym_a):
        assert ExternalWorkout.objects.filter(client=client, name="Fresh Run").exists()
    second = client_a.post("/portal/activity/strava/sync/", follow=True)
    assert second.status_code == 200
    assert b"a moment ago" in second.content
    assert client_a.post("/portal/activity/garmin/sync/").status_code == 404


def test_the_trainers_client_profile_has_the_activity_card_only_for_staff_who_may_see_them(
    gym_a, owner_a, client_a
) -> None:
    _user, client = make_client(gym_a, "profile@alpha.example")
    with tenant_context(gym_a):
        fill_days(client, days=5)
        Connection.objects.create(client=client, provider="strava", kinds="workouts")
        schedule_workouts(client, ["completed", "completed", "completed", "skipped"])
    coach = make_trainer(gym_a, owner_a, client)
    other = make_trainer(gym_a, owner_a, None, email="other@alpha.example")
    url = f"/clients/{client.pk}/"

    client_a.force_login(coach)
    page = client_a.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="client-wearable-activity"' in html
    assert "Run 0" in html
    assert 'data-activity-chart="resting_hr"' in html
    assert re.search(r'data-testid="adherence-30">75 %<', html)  # 3 of 4 done
    assert "3 of 4 workouts done" in html

    client_a.force_login(other)  # a trainer who does not coach this client
    assert client_a.get(url).status_code == 404

    from apps.accounts.models import Role
    from tests.conftest import make_user

    with tenant_context(gym_a):
        desk = make_user(Role.FRONT_DESK, "desk-activity@alpha.example")
    client_a.force_login(desk)
    page = client_a.get(url)
    assert page.status_code == 200
    assert b"client-wearable-activity" not in page.content  # health data: not front desk


def test_staff_sync_now_needs_the_client_in_reach(gym_a, owner_a, client_a) -> None:
    _user, client = make_client(gym_a, "staffsync@alpha.example")
    with tenant_context(gym_a):
        connection = Connection.objects.create(client=client, provider="apple_health")
    other = make_trainer(gym_a, owner_a, None, email="nosync@alpha.example")
    client_a.force_login(other)
    assert client_a.post(f"/wearables/connections/{connection.pk}/sync/").status_code == 404
    client_a.force_login(owner_a)
    response = client_a.post(
        f"/wearables/connections/{connection.pk}/sync/",
        {"next": "https://evil.example/"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/clients/{client.pk}/"
    assert b"does not sync by itself" in response.content


def test_the_sync_overview_lists_the_gyms_connections_failing_first_paginated(
    gym_a, gym_b, owner_a, owner_b, client_a, client_b, django_assert_max_num_queries
) -> None:
    with tenant_context(gym_a):
        clients = [make_client(gym_a, f"ov{n}@alpha.example")[1] for n in range(3)]
    with tenant_context(gym_a):
        for n, client in enumerate(clients):
            Connection.objects.create(
                client=client,
                provider="strava",
                status=ConnectionStatus.ERROR if n == 2 else ConnectionStatus.ACTIVE,
                last_error="Strava answered 503" if n == 2 else "",
                last_sync_at=timezone.now() - timedelta(hours=n),
            )
    _u, bravo_client = make_client(gym_b, "ov@bravo.example")
    with tenant_context(gym_b):
        Connection.objects.create(client=bravo_client, provider="strava", last_error="bravo only")

    client_a.force_login(owner_a)
    client_a.get("/wearables/sync/")
    with django_assert_max_num_queries(25):
        page = client_a.get("/wearables/sync/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="sync-row"') == 3
    rows = html.split('data-testid="sync-row"')[1:]
    assert "Strava answered 503" in rows[0]  # failing first
    assert "bravo only" not in html
    failing = client_a.get("/wearables/sync/?status=failing").content.decode()
    assert failing.count('data-testid="sync-row"') == 1
    assert "/wearables/sync/" in client_a.get("/").content.decode()  # in the staff navigation

    with tenant_context(gym_a):
        for n in range(60):
            c = make_client(gym_a, f"many{n}@alpha.example")[1]
            Connection.objects.create(client=c, provider="strava")
    with django_assert_max_num_queries(25):
        full = client_a.get("/wearables/sync/?page=2")
    assert full.content.decode().count('data-testid="sync-row"') == 13

    coach = make_trainer(gym_a, owner_a, clients[0])
    client_a.force_login(coach)
    assert client_a.get("/wearables/sync/").status_code == 403
    client_b.force_login(owner_b)
    assert "Strava answered 503" not in client_b.get("/wearables/sync/").content.decode()
