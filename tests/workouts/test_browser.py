"""A client logs a set on a phone: HTMX posts the set, the rest timer starts (static JS, strict
CSP), and the controls are big enough to tap."""

from __future__ import annotations

import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client
from apps.tenants.models import Gym
from apps.training.models import Exercise, PlanItem
from apps.workouts.models import SetLog
from apps.workouts.selectors import gym_today
from tests.conftest import BROWSER, PASSWORD, make_user
from tests.workouts.conftest import client_plan, plan_day, schedule

pytestmark = pytest.mark.browser

# Where a person can look at the logging page as a phone shows it.
SCREENSHOT = Path(tempfile.gettempdir()) / "workouts_phone.png"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}


def test_a_client_logs_a_set_on_a_phone(live_server_port, committed_db, browser):
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"lifter-{uuid.uuid4().hex[:10]}@charlie.example"
    slug = f"wt-browser-{uuid.uuid4().hex[:8]}"
    base = f"http://{BROWSER.host}:{live_server_port}"
    context = browser.new_context(**PHONE)
    try:
        with tenant_context(gym), transaction.atomic():
            user = make_user(Role.CLIENT, email, first_name="Lia", last_name="Lifter")
            crm_services.profile_ensure_for_role(user=user)
            client = Client.objects.get(user=user)
            squat = Exercise.objects.create(
                slug=slug, name=f"Browser squat {slug}", category="strength"
            )
            day = plan_day(client_plan(client))
            PlanItem.objects.create(
                day=day,
                order=1,
                exercise=squat,
                sets=3,
                reps_min=5,
                reps_max=5,
                load_value=Decimal(60),
                load_unit="kg",
                rest_seconds=90,
            )
            schedule(client, gym_today(), day=day)
        connection.set_schema_to_public()

        page = context.new_page()
        page.set_default_timeout(15_000)
        csp_errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                csp_errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{base}/portal/workouts/")
        page.get_by_test_id("workouts-today").get_by_role("button", name="Start").click()
        page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())

        expect(page.get_by_test_id("workout-prescription")).to_contain_text("3 \u00d7 5")
        reps = page.get_by_label("Reps")
        expect(reps).to_have_value("5")
        log_set = page.get_by_test_id("workout-log-set")
        for control in (reps, log_set):
            assert control.bounding_box()["height"] >= 44
        log_set.click()

        expect(page.locator(".workouts-set")).to_have_count(1)
        timer = page.locator("[data-rest-timer]")
        expect(timer).to_be_visible()
        expect(timer.locator("[data-rest-remaining]")).to_have_text("1:30", timeout=2_000)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        page.get_by_role("button", name="Skip rest").click()
        expect(timer).to_be_hidden()

        page.get_by_test_id("workout-complete").click()
        page.wait_for_url(f"{base}/portal/workouts/")
        expect(page.get_by_test_id("workouts-recent")).to_contain_text("Done")
        assert csp_errors == []
        with tenant_context(gym):
            assert SetLog.objects.filter(log__client__user__email=email, skipped=False).count() == 1
    finally:
        context.close()
        connection.set_schema_to_public()
        with tenant_context(gym):
            Client.objects.filter(user__email=email).delete()
            User.objects.filter(email=email).delete()
            Exercise.objects.filter(slug=slug).delete()
        connection.set_schema_to_public()
