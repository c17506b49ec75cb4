"""A client connects Strava from their Activity page through the fake's consent page; their runs
appear on their Activity page and on their trainer's view of them. Screenshots at 390 and 1280
px go to docs/screenshots/ (after-activity-*.png)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_today
from apps.wearables.models import (
    DailyActivity,
    HeartRateDay,
    NutritionDay,
    NutritionTarget,
    SleepSession,
)
from apps.wearables.routing.models import WearableAccount
from tests.conftest import BROWSER, PASSWORD, make_user
from tests.fakes.strava import FakeStrava
from tests.wearables.conftest import CLIENT_ID, CLIENT_SECRET, VERIFY_TOKEN
from tests.wearables.test_activity import schedule_workouts

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
RUNS = ("Riverside tempo", "Hill repeats", "Sunday long run")


def _console_errors(page, errors):  # type: ignore[no-untyped-def]
    def record(msg):  # type: ignore[no-untyped-def]
        # The WSGI live server serves no sockets under /ws/ (tested through the ASGI app).
        if msg.type == "error" and "/ws/" not in msg.text:
            errors.append(f"{page.url} {msg.text}")

    page.on("console", record)


def _chart_drawn(page, key):  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "key => window.Chart && Chart.getChart("
        "document.querySelector(`canvas[data-activity-chart='${key}']`))",
        arg=key,
    )


def _fits(page, width):  # type: ignore[no-untyped-def]
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def _login(page, base, email):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _month_of_data(client: Client) -> None:
    """What a watch and a food diary would have sent over the last month, for the charts: a
    week's rhythm (long walks at the weekend, less sleep midweek) and a slowly falling resting
    heart rate, as training does."""
    from django.utils import timezone

    today = gym_today()
    rng = random.Random(20)
    for n in range(30):
        day = today - timedelta(days=n)
        key = day.isoformat()
        weekend = day.weekday() >= 5
        DailyActivity.objects.create(
            client=client,
            provider="garmin",
            provider_id=key,
            date=day,
            steps=rng.randint(11000, 14500) if weekend else rng.randint(6800, 10200),
        )
        HeartRateDay.objects.create(
            client=client,
            provider="garmin",
            provider_id=key,
            date=day,
            resting_bpm=52 + round(n / 6) + rng.choice((0, 0, 1)),
        )
        end = timezone.now() - timedelta(days=n, hours=2)
        asleep = rng.randint(450, 500) if weekend else rng.randint(380, 445)
        SleepSession.objects.create(
            client=client,
            provider="garmin",
            provider_id=key,
            date=day,
            start_at=end - timedelta(minutes=asleep + 25),
            end_at=end,
            asleep_minutes=asleep,
        )
        NutritionDay.objects.create(
            client=client,
            provider="myfitnesspal",
            provider_id=key,
            date=day,
            calories_kcal=rng.randint(1900, 2450),
        )
    NutritionTarget.objects.create(client=client, calories_kcal=2200)
    schedule_workouts(
        client, ["completed"] * 3 + ["skipped"] + ["completed"] * 4 + ["scheduled"] + ["completed"]
    )


def _cleanup(gym: Gym, emails: list[str]) -> None:
    connection.set_schema_to_public()
    with tenant_context(gym):
        clients = Client.objects.filter(email__in=emails)
        ids = list(clients.values_list("pk", flat=True))
        from apps.crm.models import Assignment, Trainer

        Assignment.objects.filter(client_id__in=ids).delete()
        clients.delete()
        Trainer.objects.filter(user__email__in=emails).delete()
        User.objects.filter(email__in=emails).delete()
    WearableAccount.objects.filter(gym=gym, provider="strava").exclude(connection_id=None).filter(
        connection_id__in=ids or [0]
    ).delete()
    connection.set_schema_to_public()


def test_a_client_connects_strava_and_their_runs_show_to_them_and_their_trainer(
    live_server_port, committed_db, browser
) -> None:
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    client_email = f"runner-{tag}@charlie.example"
    coach_email = f"coach-{tag}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    fake = FakeStrava(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    athlete = fake.add_athlete()
    for days_ago, name in zip((1.2, 3.4, 6.1), RUNS, strict=True):
        fake.add_activity(athlete, name=name, days_ago=days_ago)
    errors: list[str] = []
    try:
        with tenant_context(gym), transaction.atomic():
            owner = User.objects.get(email=BROWSER.owner_email)
            user = make_user(Role.CLIENT, client_email, first_name="Rosa", last_name="Runner")
            crm_services.profile_ensure_for_role(user=user)
            client = Client.objects.get(user=user)
            coach = crm_services.trainer_create(
                actor=owner, email=coach_email, first_name="Cody", last_name="Coach"
            )
            coach.user.set_password(PASSWORD)
            coach.user.save()
            from allauth.account.models import EmailAddress

            EmailAddress.objects.update_or_create(
                user=coach.user, email=coach_email, defaults={"verified": True, "primary": True}
            )
            crm_services.assignment_create(actor=owner, client=client, trainer=coach)
            _month_of_data(client)
        connection.set_schema_to_public()

        with override_settings(
            STRAVA_CLIENT_ID=CLIENT_ID,
            STRAVA_CLIENT_SECRET=CLIENT_SECRET,
            STRAVA_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN,
            STRAVA_BASE_URL=fake.url,
            # Their connect cards show (nothing is asked of them here).
            GARMIN_CLIENT_ID="garmin-client",
            GOOGLE_HEALTH_CLIENT_ID="google-client",
        ):
            phone = browser.new_context(**PHONE)
            page = phone.new_page()
            page.set_default_timeout(20_000)
            _console_errors(page, errors)

            _login(page, base, client_email)
            page.goto(f"{base}/portal/activity/")
            card = page.get_by_test_id("provider-strava")
            expect(card.get_by_role("checkbox", name="Workouts")).to_be_checked()
            card.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "after-activity-connect-390.png"))
            card.get_by_role("link", name="Connect Strava").click()

            # The fake's own consent page on its loopback port, as Strava's would show.
            page.wait_for_url(f"{fake.url}/oauth/authorize*")
            expect(page.get_by_role("heading", name="Authorize FitnessCRM")).to_be_visible()
            page.get_by_role("link", name="Authorize").click()
            page.wait_for_url(f"{base}/portal/activity/?result=connected")
            expect(page.get_by_text("Strava is connected.")).to_be_visible()
            workouts = page.get_by_test_id("outside-workouts")
            for name in RUNS:
                expect(workouts.get_by_text(name)).to_be_visible()
            expect(
                page.get_by_test_id("provider-strava").get_by_text("Connected", exact=True)
            ).to_be_visible()
            expect(page.locator("canvas[data-activity-chart='steps']")).to_be_visible()
            _chart_drawn(page, "steps")
            page.goto(f"{base}/portal/activity/")
            _chart_drawn(page, "nutrition")
            # A phone's screen, not the full page: the tab bar is fixed to the bottom of the screen.
            page.screenshot(path=str(SCREENSHOTS / "after-activity-portal-390.png"))
            page.get_by_role("heading", name="Apps and devices").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "after-activity-portal-apps-390.png"))
            page.set_viewport_size({"width": 1280, "height": 900})
            page.reload()
            _chart_drawn(page, "nutrition")
            page.screenshot(
                path=str(SCREENSHOTS / "after-activity-portal-1280.png"), full_page=True
            )
            phone.close()

            desk = browser.new_context(**DESKTOP)
            page = desk.new_page()
            page.set_default_timeout(20_000)
            _console_errors(page, errors)
            _login(page, base, coach_email)
            page.goto(f"{base}/clients/{client.pk}/")
            card = page.get_by_test_id("client-wearable-activity")
            for name in RUNS:
                expect(card.get_by_text(name)).to_be_visible()
            expect(card.get_by_text("Strava", exact=True)).to_be_visible()
            _chart_drawn(page, "resting_hr")
            expect(card.get_by_test_id("adherence-30")).to_have_text("80 %")
            # Their trainer sets nutrition targets; the gym's sync overview is not theirs.
            expect(card.get_by_role("link", name="Nutrition targets and intake")).to_be_visible()
            expect(card.get_by_test_id("sync-overview-link")).to_have_count(0)
            page.screenshot(
                path=str(SCREENSHOTS / "after-activity-trainer-1280.png"), full_page=True
            )
            page.set_viewport_size({"width": 390, "height": 844})
            page.reload()
            card = page.get_by_test_id("client-wearable-activity")
            _chart_drawn(page, "resting_hr")
            page.screenshot(
                path=str(SCREENSHOTS / "after-activity-trainer-390.png"), full_page=True
            )
            _fits(page, 390)
            card.get_by_role("link", name="Nutrition targets and intake").click()
            page.wait_for_url(f"{base}/wearables/nutrition/{client.pk}/")
            _fits(page, 390)
            desk.close()
            # The owner's overview of every connection's sync.
            desk = browser.new_context(**DESKTOP)
            page = desk.new_page()
            page.set_default_timeout(20_000)
            _console_errors(page, errors)
            _login(page, base, BROWSER.owner_email)
            page.goto(f"{base}/clients/{client.pk}/")
            card = page.get_by_test_id("client-wearable-activity")
            expect(card.get_by_role("link", name="Nutrition targets and intake")).to_be_visible()
            card.get_by_role("link", name="Sync overview of all clients").click()
            page.wait_for_url(f"{base}/wearables/sync/")
            expect(page.get_by_role("link", name="Rosa Runner")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "after-activity-overview-1280.png"))
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(SCREENSHOTS / "after-activity-overview-390.png"))
            desk.close()
        assert errors == [], "\n".join(errors)
    finally:
        fake.stop()
        _cleanup(gym, [client_email, coach_email])
