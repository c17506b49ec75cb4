"""The owner runs a campaign in a real browser: the list, an audience whose count follows the
ticked rules live (HTMX), the editor with its branded preview, and a sent campaign's figures,
at 1280 and 390 px, each page free of console errors, CSP violations, sideways scrolling and
serious accessibility problems. Screenshots go to a temporary folder unless
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
from apps.campaigns import services
from apps.campaigns.models import Campaign, Segment
from apps.crm.models import Client, ConsentKind
from apps.notifications.models import Delivery
from apps.tenants.models import Gym
from tests.browser.test_every_page import AXE, Problems, _check_page, _watch
from tests.campaigns.conftest import consent
from tests.conftest import BROWSER, activate_totp, make_user
from tests.connect.test_browser import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def test_the_owner_builds_an_audience_and_a_campaign(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser, page, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_URL = ""
    settings.MARKETING_EMAIL_URL = ""
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    email = f"campaign-owner-{tag}@charlie.example"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = Problems(page="/campaigns/")
    _watch(page, problems, base)
    axe_source = AXE.read_text()
    try:
        with tenant_context(gym):
            owner = make_user(Role.OWNER, email, first_name="Olive", last_name="Owner")
            secret = activate_totp(owner)
            for n, status in enumerate(["active", "active", "trial", "paused"]):
                client = Client.objects.create(
                    first_name=f"Camp{n}",
                    last_name=tag,
                    email=f"camp{n}-{tag}@charlie.example",
                    status=status,
                    tags=[f"t{tag}"],
                )
                consent(client, kind=ConsentKind.MARKETING_EMAIL)
            sent_segment = services.segment_create(
                actor=owner, name=f"Tagged {tag}", definition={"tags": [f"t{tag}"]}
            )
            sent = services.campaign_create(
                actor=owner,
                name=f"Spring open day {tag}",
                channel="email",
                segment=sent_segment,
                subject="Open day at {{ gym_name }}",
                body="Hi {{ first_name }},\n\nBring a friend: https://example.com/open-day",
            )
            Campaign.objects.filter(pk=sent.pk).update(status="sending")
            services.campaign_deliver(campaign_id=sent.pk)
        connection.set_schema_to_public()

        page.set_viewport_size(DESKTOP)
        sign_in(page, base, email, secret)

        # The audience editor: ticking a status moves the count without a reload.
        page.goto(f"{base}/campaigns/audiences/new/")
        page.locator('input[name="name"]').fill(f"Active {tag}")
        page.locator('input[name="tags"]').fill(f"t{tag}")
        page.get_by_test_id("audience-count").filter(has_text="4").wait_for()
        page.locator('input[name="status"][value="active"]').check()
        page.get_by_test_id("audience-count").filter(has_text="2").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "campaigns-audience-1280.png"), full_page=True)
        page.get_by_role("button", name="Save audience").click()
        page.wait_for_url(lambda url: "/audiences/new/" not in url)
        assert page.get_by_test_id("audience-count").inner_text().startswith("2")

        # The campaign editor: the draft saved, the count for the chosen audience, a preview.
        page.goto(f"{base}/campaigns/new/")
        page.locator('input[name="name"]').fill(f"Win back {tag}")
        page.locator('select[name="segment"]').select_option(label=f"Active {tag}")
        page.get_by_test_id("audience-count").filter(has_text="2").wait_for()
        page.locator('input[name="subject"]').fill("We miss you, {{ first_name }}")
        page.locator('textarea[name="body"]').fill(
            "Hi {{ first_name }},\n\nCome back this week: https://example.com/classes"
        )
        page.get_by_role("button", name="Save as draft").click()
        page.get_by_test_id("preview").wait_for()
        frame = page.frame_locator('[data-testid="preview"]')
        frame.get_by_text("Come back this week").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "campaigns-editor-1280.png"), full_page=True)

        page.goto(f"{base}/campaigns/{sent.pk}/")
        assert page.get_by_test_id("figure-sent").inner_text().strip() == "4"
        page.screenshot(path=str(SCREENSHOTS / "campaigns-results-1280.png"), full_page=True)

        with tenant_context(gym):
            draft = Campaign.objects.get(name=f"Win back {tag}")
            segment = Segment.objects.get(name=f"Active {tag}")
        connection.set_schema_to_public()
        paths = [
            "/campaigns/",
            f"/campaigns/audiences/{segment.pk}/",
            f"/campaigns/{draft.pk}/",
            f"/campaigns/{sent.pk}/",
        ]
        for viewport, width in ((PHONE, 390), (DESKTOP, 1280)):
            page.set_viewport_size(viewport)
            for path in paths:
                problems.page = f"{path} at {width}"
                page.goto(f"{base}{path}")
                _check_page(page, problems, axe_source)
                name = path.strip("/").replace("/", "-") or "campaigns"
                page.screenshot(
                    path=str(SCREENSHOTS / f"{name.replace(str(draft.pk), 'draft')}-{width}.png"),
                    full_page=True,
                )
        found = [text for text in problems.found if "WebSocket connection to" not in text]
        assert not found, "\n".join(found)
    finally:
        with tenant_context(gym):
            campaigns = Campaign.objects.filter(name__endswith=tag)
            Delivery.objects.filter(
                group_key__in=[f"campaign:{pk}" for pk in campaigns.values_list("pk", flat=True)]
            ).delete()
            campaigns.delete()
            Segment.objects.filter(name__endswith=tag).delete()
            Client.objects.filter(last_name=tag).delete()
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
