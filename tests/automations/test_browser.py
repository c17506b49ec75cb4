"""A manager sets up automations in a real browser at 1280 and 390 px: adds the ready-made
birthday rule, reads it in the editor (each step shows only its action's fields), switches it
on, writes a rule of their own, reads the run log, and ticks off a task on the tasks page and
on Today. No console error, CSP violation, sideways scrolling or serious axe finding on any of
those pages. Screenshots go to FITNESSCRM_SCREENSHOTS (a temporary folder by default).

Runs in the browser gym (charlie) and removes what it made."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.automations.models import Rule, Run, StaffTask
from apps.crm.models import Client
from apps.tenants.models import Gym
from tests.browser.test_every_page import AXE, Problems, _check_page, _log_in, _watch
from tests.conftest import BROWSER, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def test_a_manager_sets_up_automations(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    email = f"auto-manager-{tag}@charlie.example"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe_source = AXE.read_text()
    problems = Problems()
    try:
        with tenant_context(gym):
            manager = make_user(Role.MANAGER, email, first_name="Mia", last_name=tag)
            client = Client.objects.create(first_name="Ravi", last_name=tag)
        connection.set_schema_to_public()
        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, has_touch=width == "390")
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                problems.page = f"[{width}] sign-in"
                _watch(page, problems, base)
                _log_in(page, base, email)

                problems.page = f"[{width}] rules"
                page.goto(f"{base}/automations/")
                _check_page(page, problems, axe_source)
                page.screenshot(
                    path=str(SCREENSHOTS / f"automations-empty-{width}.png"), full_page=True
                )
                if width == "1280":
                    page.get_by_test_id("preset-birthday").click()
                    page.wait_for_load_state("networkidle")
                with tenant_context(gym):
                    rule = Rule.objects.get(preset="birthday")
                connection.set_schema_to_public()

                problems.page = f"[{width}] editor"
                page.goto(f"{base}/automations/{rule.pk}/")
                _check_page(page, problems, axe_source)
                # The first step is an email: its subject shows, a task's title does not.
                assert page.locator("#id_steps-0-subject").is_visible()
                assert not page.locator("#id_steps-0-title").is_visible()
                page.select_option("#id_steps-2-action", "create_task")
                assert page.locator("#id_steps-2-title").is_visible()
                assert not page.locator("#id_steps-2-subject").is_visible()
                page.screenshot(
                    path=str(SCREENSHOTS / f"automations-editor-{width}.png"), full_page=True
                )

                if width == "1280":
                    page.goto(f"{base}/automations/")
                    page.get_by_test_id(f"switch-on-{rule.pk}").click()
                    page.wait_for_load_state("networkidle")
                    with tenant_context(gym):
                        rule.refresh_from_db()
                        assert rule.enabled
                        Run.objects.create(
                            rule=rule,
                            occurrence_key=f"birthday:{client.pk}:2026",
                            client=client,
                            log=[
                                {
                                    "step": 0,
                                    "action": "email",
                                    "at": "2026-12-06T09:00:00",
                                    "ok": True,
                                    "detail": "Message queued (Email).",
                                },
                                {
                                    "step": 1,
                                    "action": "notify_trainer",
                                    "at": "2026-12-06T09:00:00",
                                    "ok": False,
                                    "error": "The client has no trainer.",
                                },
                            ],
                            status="failed",
                        )
                        StaffTask.objects.create(
                            title=f"Call Ravi {tag}", client=client, assignee=manager
                        )
                    connection.set_schema_to_public()

                    # A rule of one's own.
                    page.goto(f"{base}/automations/new/")
                    page.fill("#id_name", f"Third class {tag}")
                    page.select_option("#id_trigger", "class_attended")
                    page.fill("#id_threshold", "3")
                    page.select_option("#id_steps-0-action", "add_tag")
                    page.fill("#id_steps-0-tag", "regular")
                    page.locator("form.auto-editor button[type=submit]").click()
                    page.wait_for_url(f"{base}/automations/")
                problems.page = f"[{width}] rules with rules"
                page.goto(f"{base}/automations/")
                _check_page(page, problems, axe_source)
                assert page.get_by_text(f"Third class {tag}").is_visible()
                page.screenshot(path=str(SCREENSHOTS / f"automations-{width}.png"), full_page=True)

                problems.page = f"[{width}] run log"
                page.goto(f"{base}/automations/{rule.pk}/runs/")
                _check_page(page, problems, axe_source)
                assert page.get_by_test_id("runs").is_visible()
                page.screenshot(
                    path=str(SCREENSHOTS / f"automations-runs-{width}.png"), full_page=True
                )

                problems.page = f"[{width}] today"
                page.goto(f"{base}/")
                _check_page(page, problems, axe_source)
                assert (
                    page.get_by_test_id("today-tasks").get_by_text(f"Call Ravi {tag}").is_visible()
                )
                page.screenshot(
                    path=str(SCREENSHOTS / f"automations-today-{width}.png"), full_page=True
                )

                problems.page = f"[{width}] tasks"
                page.goto(f"{base}/tasks/")
                _check_page(page, problems, axe_source)
                page.screenshot(
                    path=str(SCREENSHOTS / f"automations-tasks-{width}.png"), full_page=True
                )
                if width == "390":
                    with tenant_context(gym):
                        task = StaffTask.objects.get(title=f"Call Ravi {tag}")
                    connection.set_schema_to_public()
                    page.get_by_test_id(f"tick-{task.pk}").click()
                    page.wait_for_load_state("networkidle")
                    with tenant_context(gym):
                        task.refresh_from_db()
                        assert task.done_at is not None
                    connection.set_schema_to_public()
            finally:
                context.close()
        # The live server here is WSGI: the bell's and the inbox's WebSockets (other apps) find
        # no /ws/ on it. Those pages' own tests cover them.
        found = [p for p in problems.found if "WebSocket connection" not in p]
        assert not found, "\n".join(found)
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            StaffTask.objects.filter(title__endswith=tag).delete()
            Rule.objects.filter(preset="birthday").delete()
            Rule.objects.filter(name__endswith=tag).delete()
            Client.objects.filter(last_name=tag).delete()
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
