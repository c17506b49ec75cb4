"""The bell and the notification centre in a browser, on a phone (390 px) and a laptop
(1280 px): the count, the centre, marking read. Screenshots go to a temporary folder."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client, Trainer
from apps.notifications.models import Delivery, Notification
from apps.notifications.services import notify
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir()) / "fitnesscrm-notifications"
WIDTHS = {"phone": 390, "laptop": 1280}


def _remove(gym: Gym, email: str) -> None:
    connection.set_schema_to_public()
    with tenant_context(gym):
        Delivery.objects.filter(recipient_user__email=email).delete()
        Notification.objects.filter(recipient__email=email).delete()
        Client.objects.filter(user__email=email).delete()
        Trainer.objects.filter(user__email=email).delete()
        User.objects.filter(email=email).delete()
    connection.set_schema_to_public()


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("role", [Role.CLIENT, Role.TRAINER])
def test_bell_and_centre(live_server_port, committed_db, browser, width_name, role):
    SCREENSHOTS.mkdir(exist_ok=True)
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"bell-{uuid.uuid4().hex[:10]}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    context = browser.new_context(viewport={"width": WIDTHS[width_name], "height": 860})
    try:
        with tenant_context(gym), transaction.atomic():
            user = make_user(role, email, first_name="Bea", last_name="Bell")
            crm_services.profile_ensure_for_role(user=user)
            for number, kind, extra in (
                (1, "class_cancelled", {"what": "Spin", "when": "Tue 8 Dec, 07:00"}),
                (2, "waitlist_promoted", {"what": "Yoga", "when": "Wed 9 Dec, 18:30"}),
                (3, "test", {}),
            ):
                notify(
                    kind=kind,
                    recipient=user,
                    context=extra,
                    event_key=f"browser:{number}",
                    url="/portal/" if role == Role.CLIENT else "/",
                    channels=["in_app"],
                )
        connection.set_schema_to_public()

        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

        bell = page.get_by_test_id("notification-bell")
        expect(page.get_by_test_id("notification-count")).to_have_text("3")
        bell.click()
        centre = "/portal/notifications/" if role == Role.CLIENT else "/notifications/"
        page.wait_for_url(f"{base}{centre}")
        expect(page.get_by_test_id("notification")).to_have_count(3)
        expect(page.get_by_text("Cancelled: Spin on Tue 8 Dec, 07:00")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width_name]
        page.screenshot(path=SCREENSHOTS / f"centre-{role}-{width_name}.png", full_page=True)

        page.get_by_test_id("mark-read").first.click()
        expect(page.get_by_test_id("notification-count")).to_have_text("2")
        page.get_by_test_id("mark-all-read").click()
        expect(page.get_by_test_id("notification-count")).to_be_hidden()
        with tenant_context(gym):
            assert not Notification.objects.filter(recipient__email=email, read_at=None).exists()
        connection.set_schema_to_public()

        page.goto(f"{base}{centre}preferences/")
        expect(page.get_by_test_id("preferences-form")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width_name]
        page.screenshot(path=SCREENSHOTS / f"preferences-{role}-{width_name}.png", full_page=True)
    finally:
        context.close()
        _remove(gym, email)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_delivery_log_searches(live_server_port, committed_db, browser, width_name):
    SCREENSHOTS.mkdir(exist_ok=True)
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"log-{uuid.uuid4().hex[:10]}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    context = browser.new_context(viewport={"width": WIDTHS[width_name], "height": 860})
    marker = uuid.uuid4().hex[:8]
    try:
        with tenant_context(gym), transaction.atomic():
            make_user(Role.MANAGER, email, first_name="Max", last_name="Manager")
            for number, (channel, status, error) in enumerate(
                [
                    ("email", "delivered", ""),
                    ("sms", "failed", "The phone number 600 111 is not in international format."),
                    ("email", "bounced", "smtp;550 5.1.1 mailbox does not exist"),
                    ("push", "sent", ""),
                    ("email", "queued", ""),
                ]
            ):
                Delivery.objects.create(
                    channel=channel,
                    kind="class_reminder",
                    event_key=f"log-{marker}-{number}",
                    address=f"member{number}.{marker}@example.com" if channel == "email" else "",
                    subject=f"Reminder: Spin on Tue 8 Dec, 07:00 ({marker})",
                    status=status,
                    error=error,
                    provider="smtp" if channel == "email" else "",
                )
        connection.set_schema_to_public()
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{base}/notifications/log/?kind=class_reminder")
        expect(page.get_by_test_id("delivery-row").first).to_be_visible()
        page.get_by_label("Status").select_option("bounced")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_test_id("delivery-row")).to_have_count(1)
        expect(page.get_by_text("mailbox does not exist")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width_name]
        page.goto(f"{base}/notifications/log/?recipient={marker}")
        page.screenshot(path=SCREENSHOTS / f"log-{width_name}.png", full_page=True)
    finally:
        context.close()
        connection.set_schema_to_public()
        with tenant_context(gym):
            Delivery.objects.filter(event_key__startswith=f"log-{marker}").delete()
        _remove(gym, email)
