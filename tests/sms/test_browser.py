"""The owner sets up texts in a real browser: the SMS settings page at 1280 and 390 px, the
Messaging Service saved, a test text sent through the fake Twilio, whose signed delivery
reports reach the live server over HTTP (through a stand-in for the proxy: Twilio signs the
public URL) until the page says Delivered. Screenshots go to a temporary folder unless
FITNESSCRM_SCREENSHOTS names one.

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
from apps.notifications.models import Delivery
from apps.sms.models import GymMessagingService
from apps.tenants.models import Gym
from tests.browser.test_every_page import AXE, Problems, _check_page, _watch
from tests.conftest import BROWSER, activate_totp, make_user
from tests.connect.test_browser import sign_in
from tests.fakes.twilio import FakeTwilio, http_transport
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())
SERVICE = "MG" + "e" * 32


def test_the_owner_sets_up_texts_and_sends_a_test(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser, page, settings
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"sms-owner-{uuid.uuid4().hex[:8]}@charlie.example"
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, transport=http_transport)
    fake.start()
    fake.callback_host = f"http://localhost:{live_server_port}"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_BASE_URL = fake.url
    settings.URL_SCHEME = "http"
    settings.PUBLIC_PORT = ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = Problems(page="/settings/sms/")
    _watch(page, problems, base)
    try:
        with tenant_context(gym):
            owner = make_user(Role.OWNER, email, first_name="Olive", last_name="Owner")
            secret = activate_totp(owner)
        connection.set_schema_to_public()
        page.set_viewport_size(DESKTOP)
        sign_in(page, base, email, secret)

        page.goto(f"{base}/settings/sms/")
        assert page.get_by_test_id("sms-state").inner_text().strip() == "Not set up"
        page.screenshot(path=str(SCREENSHOTS / "sms-settings-empty-1280.png"), full_page=True)
        page.locator('input[name="service_sid"]').fill(SERVICE)
        page.get_by_test_id("sms-save").click()
        page.get_by_test_id("sms-status").wait_for()
        assert page.get_by_test_id("sms-state").inner_text().strip() == "Set up"

        page.locator('input[name="to"]').fill("+44 7700 900123")
        page.get_by_test_id("sms-test-send").click()
        page.get_by_test_id("sms-texts").wait_for()
        assert "Test text sent" in page.content()
        [sid] = fake.messages
        assert fake.messages[sid]["to"] == "+447700900123"
        assert fake.deliver_status(sid) == [204, 204, 204]
        page.reload()
        assert "Delivered" in page.get_by_test_id("sms-texts").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "sms-settings-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / "sms-settings-390.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        # The set-up page (the every-page test sees it empty): no console error, CSP
        # violation, sideways scrolling or serious accessibility problem, at both widths.
        axe_source = AXE.read_text()
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            page.reload()
            _check_page(page, problems, axe_source)
        # The live server is WSGI: the bell's and the inbox's sockets cannot connect there.
        found = [text for text in problems.found if "WebSocket connection to" not in text]
        assert not found, "\n".join(found)
    finally:
        fake.stop()
        GymMessagingService.objects.filter(gym=gym).delete()
        with tenant_context(gym):
            Delivery.objects.filter(kind="sms_test").delete()
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
