"""MyFitnessPal in a browser, on a phone (390 px) and a laptop (1280 px): the client uploads their
export and sees two weeks of intake; their trainer sets targets and sees the bars. Strict CSP:
no console errors, nothing wider than the screen."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client, Trainer
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_today
from tests.conftest import BROWSER, PASSWORD, make_user
from tests.wearables.test_myfitnesspal import current_zip

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())
# Vendored axe-core, run through the browser's debugging protocol (the CSP does not govern it),
# as tests/browser/test_every_page.py does.
AXE = Path(__file__).parents[1] / "browser" / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "has_touch": True,
    },
    "laptop": {"viewport": {"width": 1280, "height": 900}},
}


def _watch(page, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.on(
        "console",
        lambda message: (
            message.type == "error" and problems.append(f"{message.text} {message.location}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the screen, and no serious or critical accessibility violation."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.evaluate(AXE.read_text())
    violations = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; ")}`);
        }""",
        AXE_TAGS,
    )
    assert violations == []


@pytest.mark.parametrize("screen", ["phone", "laptop"])
def test_a_client_imports_and_their_trainer_sets_targets(
    live_server_port, committed_db, browser, tmp_path, screen
):
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:10]
    client_email = f"eater-{tag}@charlie.example"
    trainer_email = f"coach-{tag}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    width = VIEWPORTS[screen]["viewport"]["width"]
    context = browser.new_context(**VIEWPORTS[screen])
    problems: list[str] = []
    try:
        with tenant_context(gym), transaction.atomic():
            owner = User.objects.get(email=BROWSER.owner_email)
            user = make_user(Role.CLIENT, client_email, first_name="Nia", last_name="Eater")
            crm_services.profile_ensure_for_role(user=user)
            client = Client.objects.get(user=user)
            make_user(Role.TRAINER, trainer_email, first_name="Cole", last_name="Coach")
            trainer = crm_services.trainer_create(actor=owner, email=trainer_email)
            crm_services.assignment_create(actor=owner, client=client, trainer=trainer)
            first = gym_today() - timedelta(days=2)
        connection.set_schema_to_public()
        export = tmp_path / "myfitnesspal-export.zip"
        export.write_bytes(current_zip(first))

        page = context.new_page()
        page.set_default_timeout(15_000)
        _watch(page, problems)
        _log_in(page, base, client_email)
        page.goto(f"{base}/portal/activity/myfitnesspal/")
        expect(page.get_by_test_id("nutrition-last-import")).to_have_text("Nothing imported yet.")
        page.get_by_label("MyFitnessPal export (.zip or .csv)").set_input_files(str(export))
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_text("Imported 2 days from MyFitnessPal")).to_be_visible()
        expect(page.get_by_test_id("intake-row")).to_have_count(14)
        expect(page.get_by_test_id("nutrition-intake")).to_contain_text("2252 kcal")
        _fits(page, width)
        shot = SCREENSHOTS / f"myfitnesspal_portal_{screen}.png"
        page.screenshot(path=str(shot), full_page=True)
        page.context.clear_cookies()

        _log_in(page, base, trainer_email)
        page.goto(f"{base}/wearables/nutrition/{client.pk}/")
        page.get_by_label("Calories (kcal a day)").fill("2000")
        page.get_by_label("Protein (g a day)").fill("150")
        page.get_by_role("button", name="Save targets").click()
        expect(page.get_by_text("Nutrition targets saved.")).to_be_visible()
        intake = page.get_by_test_id("nutrition-intake")
        over = intake.locator(".nutrition-over .nutrition-bar-fill")
        expect(over).to_have_count(1)
        expect(over).to_have_class("nutrition-bar-fill nutrition-w-100")
        expect(intake.locator(".nutrition-under .nutrition-bar-fill")).to_have_count(3)
        bar = over.bounding_box()
        assert bar is not None
        assert bar["width"] > 0
        intake.get_by_text("4 meals").click()
        expect(intake.get_by_text("Dinner")).to_be_visible()
        _fits(page, width)
        page.screenshot(
            path=str(SCREENSHOTS / f"myfitnesspal_trainer_{screen}.png"), full_page=True
        )
        # The live sockets under /ws/ cannot connect to this WSGI live server.
        assert [p for p in problems if "/favicon.ico" not in p and "/ws/" not in p] == []
    finally:
        context.close()
        connection.set_schema_to_public()
        with tenant_context(gym):
            Client.objects.filter(user__email=client_email).delete()
            Trainer.objects.filter(user__email=trainer_email).delete()
            User.objects.filter(email__in=[client_email, trainer_email]).delete()
        connection.set_schema_to_public()
