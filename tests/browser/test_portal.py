"""A client on a phone: logs in, edits their details in the portal, and the service worker that
makes the portal installable registers."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services
from apps.crm.models import Client
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}
# Where a person (or CI) can look at the portal as a phone shows it.
SCREENSHOT = Path(tempfile.gettempdir()) / "portal_phone.png"

WAIT_FOR_SERVICE_WORKER = """
() => Promise.race([
  navigator.serviceWorker.ready.then((registration) => ({
    script: registration.active && registration.active.scriptURL,
    scope: registration.scope,
  })),
  new Promise((_, reject) => setTimeout(() => reject(new Error("no service worker")), 10000)),
])
"""


def _remove(gym: Gym, email: str) -> None:
    connection.set_schema_to_public()
    with tenant_context(gym):
        Client.objects.filter(user__email=email).delete()
        User.objects.filter(email=email).delete()
    connection.set_schema_to_public()


def test_a_client_edits_their_details_on_a_phone(live_server_port, committed_db, browser):
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"portal-{uuid.uuid4().hex[:10]}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    context = browser.new_context(**PHONE)
    try:
        with tenant_context(gym), transaction.atomic():
            user = make_user(Role.CLIENT, email, first_name="Pia", last_name="Portal")
            services.profile_ensure_for_role(user=user)
        connection.set_schema_to_public()

        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        # Clients land on the portal once the dashboard sends them there; either way it is here.
        if not page.url.endswith("/portal/"):
            page.goto(f"{base}/portal/")
        expect(page.get_by_test_id("portal-greeting")).to_have_text("Hello, Pia")

        # On a phone, Profile sits under the tab bar's "More".
        portal_nav = page.get_by_role("navigation", name="Portal")
        portal_nav.get_by_text("More").click()
        portal_nav.get_by_role("link", name="Profile").click()
        page.wait_for_url(f"{base}/portal/profile/")
        page.get_by_label("Phone", exact=True).fill("+44 7700 900123")
        page.get_by_label("Your goals").fill("Swim 1 km before summer")
        page.get_by_role("button", name="Save my details").click()

        expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
        expect(page.get_by_test_id("portal-phone")).to_have_text("+44 7700 900123")
        expect(page.get_by_label("Your goals")).to_have_value("Swim 1 km before summer")
        with tenant_context(gym):
            client = Client.objects.get(user__email=email)
            assert (client.phone, client.goals) == ("+447700900123", "Swim 1 km before summer")
        connection.set_schema_to_public()

        registration = page.evaluate(WAIT_FOR_SERVICE_WORKER)
        assert registration == {"script": f"{base}/sw.js", "scope": f"{base}/"}

        page.get_by_role("navigation", name="Portal").get_by_role("link", name="Home").click()
        expect(page.get_by_test_id("portal-goals")).to_have_text("Swim 1 km before summer")
        # Nothing on the phone-sized page is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        page.screenshot(path=SCREENSHOT)

        # Offline, a portal page falls back to the page the worker keeps.
        context.set_offline(True)
        page.goto(f"{base}/portal/profile/")
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        context.set_offline(False)
    finally:
        context.close()
        _remove(gym, email)
