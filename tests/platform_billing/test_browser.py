"""The lapsed-subscription banner, the read-only page and the owner's subscription page in a
browser at phone and desktop widths. Screenshots go to docs/screenshots/platform-billing-*.png."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.platform_billing.models import GymSubscription, PlatformPlan
from apps.tenants.models import Gym
from tests.browser.test_identity_csp import sign_in
from tests.conftest import BROWSER, activate_totp, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
# A test run writes no tracked file: FITNESSCRM_SCREENSHOTS=docs/screenshots refreshes the
# screenshots the docs show.
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def test_banner_read_only_and_subscription_page(  # type: ignore[no-untyped-def]
    settings, django_db_setup, live_server_port, committed_db, browser, page
):
    settings.PLATFORM_BILLING = True
    settings.PLATFORM_BILLING_GRACE_DAYS = 14
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"platform-owner-{tag}@charlie.example"
    with tenant_context(gym):
        owner = make_user(Role.OWNER, email, first_name="Olive")
        secret = activate_totp(owner)
    plans = [
        PlatformPlan.objects.create(
            code=f"starter-{tag}", name="Starter", max_active_clients=50, amount=2900
        ),
        PlatformPlan.objects.create(
            code=f"studio-{tag}", name="Studio", max_active_clients=200, amount=7900
        ),
        PlatformPlan.objects.create(code=f"club-{tag}", name="Club", amount=14900),
    ]
    row = GymSubscription.objects.create(
        gym=gym,
        status="past_due",
        lapsed_at=timezone.now() - timedelta(days=3),
        trial_ends_at=timezone.now() - timedelta(days=5),
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        sign_in(page, base, email, secret)
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.goto(base + "/")
            assert page.locator('[data-testid="platform-banner"]').is_visible()
            page.screenshot(path=str(SCREENSHOTS / f"platform-billing-banner-{width}.png"))
            page.goto(base + "/billing/subscription/")
            assert page.locator('[data-testid="platform-subscription"]').is_visible()
            page.screenshot(
                path=str(SCREENSHOTS / f"platform-billing-subscription-{width}.png"),
                full_page=True,
            )
        GymSubscription.objects.filter(pk=row.pk).update(
            lapsed_at=timezone.now() - timedelta(days=20)
        )
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.goto(base + "/clients/new/")
            page.locator('input[name="first_name"]').fill("Read")
            page.locator('input[name="last_name"]').fill("Only")
            page.locator('main form button[type="submit"]').first.click()
            page.wait_for_load_state("networkidle")
            assert page.locator('[data-testid="platform-read-only"]').is_visible()
            page.screenshot(path=str(SCREENSHOTS / f"platform-billing-read-only-{width}.png"))
    finally:
        GymSubscription.objects.filter(pk=row.pk).delete()
        PlatformPlan.objects.filter(pk__in=[p.pk for p in plans]).delete()
        with tenant_context(gym):
            User.objects.filter(email=email).delete()
