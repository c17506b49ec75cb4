from __future__ import annotations

import pytest
from django.db import connection

from apps.tenants.models import Gym
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_up_a_gym_and_arrive_logged_in_on_its_dashboard(page, live_server_port, committed_db):
    base = f"http://localhost:{live_server_port}"
    try:
        page.goto(f"{base}/")
        page.get_by_role("link", name="Create your gym").click()
        page.get_by_label("Gym name").fill("Browser Barbell")
        page.get_by_label("Web address").fill("browser-barbell")
        page.get_by_label("Your email").fill("owner@browser.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create gym").click()

        page.wait_for_url(f"http://browser-barbell.localhost:{live_server_port}/")
        assert page.get_by_test_id("dashboard-title").inner_text() == "Welcome to Browser Barbell"
        assert "owner@browser.example" in page.content()
    finally:
        connection.set_schema_to_public()
        gym = Gym.objects.filter(subdomain="browser-barbell").first()
        if gym is not None:
            gym.delete(force_drop=True)


def test_invalid_subdomain_shows_the_error_next_to_the_field(page, live_server_port, committed_db):
    page.goto(f"http://localhost:{live_server_port}/signup/")
    page.get_by_label("Gym name").fill("Nope")
    page.get_by_label("Web address").fill("admin")
    page.get_by_label("Your email").fill("owner@nope.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create gym").click()
    assert page.locator("#subdomain-error").inner_text() == "This subdomain is reserved."
    assert not Gym.objects.filter(name="Nope").exists()
