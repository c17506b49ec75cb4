"""The owner connects Stripe in a real browser: the billing page, Stripe's OAuth page (the
fake Connect server) and back through the public host's callback to the gym's page showing
the account's status, then Disconnect. Screenshots at 1280 and 390 px go to
docs/screenshots/after-stripe-connect-*.png.

Runs in the browser gym (charlie) and removes the account and owner it made."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.connect.models import ConnectedAccount, StripeEvent
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, activate_totp, make_user, totp_code

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A test run writes no tracked file: FITNESSCRM_SCREENSHOTS=docs/screenshots refreshes the
# screenshots the docs show.
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def sign_in(page: Any, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_load_state("networkidle")
    if "/2fa/" in page.url:
        page.locator('input[name="code"]').fill(totp_code(secret))
        page.locator('form button[type="submit"]').first.click()
        page.wait_for_load_state("networkidle")


def test_the_owner_connects_and_disconnects_stripe(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, stripe_fake, browser, page
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"stripe-owner-{uuid.uuid4().hex[:8]}@charlie.example"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with tenant_context(gym):
            owner = make_user(Role.OWNER, email, first_name="Olive", last_name="Owner")
            secret = activate_totp(owner)
        connection.set_schema_to_public()
        page.set_viewport_size(DESKTOP)
        sign_in(page, base, email, secret)

        page.goto(f"{base}/billing/stripe/")
        page.screenshot(path=str(SCREENSHOTS / "after-stripe-connect-empty-1280.png"))
        page.get_by_test_id("stripe-connect").click()
        # Stripe's page (the fake approves at once) sends the owner to the public host's
        # callback, which sends them back to the gym's page.
        page.wait_for_url(f"{base}/billing/stripe/?result=connected")
        assert page.get_by_test_id("stripe-result").is_visible()
        assert page.get_by_test_id("stripe-charges").inner_text().strip() == "Enabled"
        account = ConnectedAccount.objects.get(gym=gym, disconnected_at=None)
        assert account.account_id in page.get_by_test_id("stripe-status").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "after-stripe-connect-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / "after-stripe-connect-390.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width

        page.get_by_test_id("stripe-disconnect").click()
        page.get_by_test_id("stripe-connect").wait_for()
        assert account.account_id in stripe_fake.deauthorized
    finally:
        connection.set_schema_to_public()
        StripeEvent.objects.filter(gym=gym).delete()
        ConnectedAccount.objects.filter(gym=gym).delete()
        with tenant_context(gym):
            User.objects.filter(email=email).update(is_active=False)
        connection.set_schema_to_public()
