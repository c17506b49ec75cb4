"""A client uploads their Apple Health export in a real browser at 1280 and 390 px: the file
goes up in chunks (upload.js), the import's progress appears and ends in "Imported" (HTMX
polling), with no console error, CSP violation, sideways scrolling or serious axe finding.

Runs in the browser gym (charlie) and removes what it made."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm.models import Client
from apps.tenants.models import Gym
from apps.wearables.models import HealthExport
from tests.browser.test_every_page import AXE, Problems, _check_page, _log_in, _watch
from tests.conftest import BROWSER, make_user
from tests.wearables.test_apple_health import export_zip, realistic_records

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


@override_settings(APPLE_HEALTH_CHUNK_BYTES=512)
def test_a_client_uploads_their_export(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    email = f"apple-{tag}@charlie.example"
    axe_source = AXE.read_text()
    problems = Problems()
    folder = Path(tempfile.mkdtemp())
    try:
        with tenant_context(gym):
            user = make_user(Role.CLIENT, email, first_name="Casey", last_name=tag)
            client = Client.objects.filter(user=user).first() or Client.objects.create(
                user=user, first_name="Casey", last_name=tag, email=email
            )
        connection.set_schema_to_public()
        for days_ago, (width, viewport) in enumerate(WIDTHS.items(), start=2):
            path = folder / f"export-{width}.zip"
            path.write_bytes(export_zip(realistic_records(days_ago=days_ago)))
            context = browser.new_context(viewport=viewport, has_touch=width == "390")
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                problems.page = f"[{width}] apple health"
                _watch(page, problems, base)
                _log_in(page, base, email)
                page.goto(f"{base}/portal/activity/apple-health/")
                _check_page(page, problems, axe_source)
                page.set_input_files("#apple-health-file", str(path))
                page.get_by_role("button", name="Upload").click()
                # Each width uploads another day's export: one more import done each time.
                done = page.locator('[data-testid="apple-health-export"][data-status="done"]')
                expect(done).to_have_count(days_ago - 1, timeout=20_000)
                assert "Imported" in done.first.inner_text()
                _check_page(page, problems, axe_source)
                page.screenshot(path=str(folder / f"apple-health-{width}.png"), full_page=True)
            finally:
                context.close()
        with tenant_context(gym):
            exports = list(
                HealthExport.objects.filter(client=client).values_list(
                    "file_name", "status", "error"
                )
            )
            assert [status for _name, status, _error in exports] == ["done", "done"], exports
        connection.set_schema_to_public()
        assert not problems.found, "\n".join(problems.found)
    finally:
        with tenant_context(gym):
            Client.objects.filter(email=email).delete()
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
