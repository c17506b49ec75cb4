from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.crm import services
from apps.crm.models import Assignment, Client, Trainer
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# A fixed path, so a person can look at the phone layout after a run.
SCREENSHOT = "/tmp/crm_profile_phone.png"  # noqa: S108


def log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(f"{base}/")


def test_manager_adds_a_client_and_assigns_a_trainer_who_then_sees_them(
    django_db_setup, live_server_port, committed_db, browser, page
):  # type: ignore[no-untyped-def]
    # The database first: Playwright runs an event loop, in which Django refuses to set it up.
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    manager_email = f"browser-manager-{tag}@charlie.example"
    trainer_email = f"browser-trainer-{tag}@charlie.example"
    client_email = f"browser-client-{tag}@example.com"
    trainer_name = f"Brenda {tag}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    try:
        with tenant_context(gym):
            manager = make_user(Role.MANAGER, manager_email)
            make_user(Role.TRAINER, trainer_email, first_name="Brenda", last_name=tag)
            services.trainer_create(actor=manager, email=trainer_email)
        connection.set_schema_to_public()

        # The manager adds a client...
        log_in(page, base, manager_email)
        page.get_by_role("link", name="Clients", exact=True).click()
        page.get_by_role("link", name="Add client").click()
        page.get_by_label("First name").fill("Carla")
        page.get_by_label("Last name").fill(f"Client {tag}")
        page.get_by_label("Email").fill(client_email)
        page.get_by_label("Goals").fill("Run a half marathon in the spring.")
        page.locator("form[data-testid=client-form] button[type=submit]").click()
        page.wait_for_url(f"{base}/clients/*/")
        assert page.get_by_test_id("client-name").inner_text().startswith(f"Carla Client {tag}")

        # ...and assigns her a primary trainer, in place (HTMX).
        page.get_by_test_id("assign-form").get_by_role("combobox").select_option(label=trainer_name)
        page.get_by_label("Primary trainer").check()
        page.get_by_role("button", name="Assign").click()
        current = page.get_by_test_id("current-trainers")
        current.get_by_role("link", name=trainer_name).wait_for()
        assert "Primary" in current.inner_text()

        # The profile on a phone: checked by eye, see the report.
        page.set_viewport_size(PHONE)
        page.screenshot(path=SCREENSHOT, full_page=True)

        # Typing in the client list's search box narrows the table in place (HTMX).
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Clients", exact=True).click()
        page.get_by_label("Search").press_sequentially(tag, delay=30)
        page.wait_for_url(f"{base}/clients/?search={tag}*")
        table = page.get_by_test_id("client-table")
        table.get_by_role("link", name=f"Carla Client {tag}").wait_for()
        assert table.locator("tbody tr").count() == 1

        # The trainer logs in and finds her in "My clients".
        trainer_context = browser.new_context()
        try:
            trainer_page = trainer_context.new_page()
            trainer_page.set_default_timeout(15_000)
            log_in(trainer_page, base, trainer_email)
            my_clients = trainer_page.get_by_test_id("my-clients")
            assert f"Carla Client {tag}" in my_clients.inner_text()
            my_clients.get_by_role("link", name=f"Carla Client {tag}").click()
            trainer_page.wait_for_url(f"{base}/clients/*/")
            assert "Run a half marathon" in trainer_page.content()
        finally:
            trainer_context.close()

        with tenant_context(gym):
            assignment = Assignment.objects.get(client__email=client_email)
            assert assignment.is_primary
            assert assignment.trainer.user.email == trainer_email
    finally:
        with tenant_context(gym):
            Client.objects.filter(email=client_email).delete()  # its assignments and notes too
            Trainer.objects.filter(user__email=trainer_email).delete()
            User.objects.filter(email__in=[manager_email, trainer_email]).delete()
        connection.set_schema_to_public()
