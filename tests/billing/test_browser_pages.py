"""The billing pages in a browser at phone and desktop widths, within the CSP: the owner's
catalogue, a client's "Membership & payments", failed payments, and the client's portal page.
Screenshots go to docs/screenshots/billing-*.png."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.billing import services
from apps.billing.models import (
    CreditGrant,
    EntitlementUse,
    Grant,
    Membership,
    MembershipPlan,
    Pack,
    Payment,
    PaymentKind,
    PaymentStatus,
    PromotionCode,
)
from apps.crm.models import Client
from apps.crm.services import profile_ensure_for_role
from apps.scheduling.classes.services import class_book
from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from tests.conftest import BROWSER, activate_totp, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
# A test run writes no tracked file: FITNESSCRM_SCREENSHOTS=docs/screenshots refreshes the
# screenshots the docs show.
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def sign_in(page: Any, base: str, email: str, secret: str | None = None) -> None:
    from tests.browser.test_identity_csp import sign_in as identity_sign_in

    identity_sign_in(page, base, email, secret)


def test_billing_pages_at_both_widths(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser, page
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tenant_context(gym), transaction.atomic():
        owner = make_user(Role.OWNER, f"billing-owner-{tag}@charlie.example", first_name="Olive")
        secret = activate_totp(owner)
        user = make_user(
            Role.CLIENT, f"billing-client-{tag}@charlie.example", first_name="Mia", last_name="Moss"
        )
        profile_ensure_for_role(user=user)
        client = Client.objects.get(user=user)
        plans = [
            services.plan_create(
                actor=owner, name="Unlimited", price=7900, joining_fee=2500, minimum_term=3
            ),
            services.plan_create(
                actor=owner,
                name="Twice a week",
                price=4900,
                grant=Grant.CLASSES_PER_WEEK,
                grant_count=2,
                trial_days=7,
                trial_price=0,
            ),
        ]
        packs = [
            services.pack_create(
                actor=owner, name="10 classes", credits=10, price=12000, expiry_days=90
            ),
            services.pack_create(
                actor=owner,
                name="5 PT sessions",
                kind="session",
                credits=5,
                price=30000,
                expiry_days=180,
            ),
        ]
        code = services.promotion_code_create(actor=owner, code=f"SPRING{tag[:4]}", percent_off=20)
        membership = services.membership_sell(
            actor=owner, client=client, plan=plans[0], payment_kind="offline_cash"
        )
        services.pack_sell(
            actor=owner, client=client, pack=packs[0], payment_kind="offline_transfer"
        )
        services.membership_mark_past_due(membership=membership, failed_at=timezone.now())
        # A no-show fee the saved card declined: on the failed-payments list and in the
        # ledger, with the card on file it tells of.
        Payment.objects.create(
            client=client,
            kind=PaymentKind.FEE,
            amount=1500,
            currency=plans[0].currency,
            status=PaymentStatus.FAILED,
            description="No-show fee (2026-01-05 18:00)",
            reason="Your card was declined.",
            reference=f"strike:{tag}",
            card_brand="visa",
            card_last4="0341",
            paid_at=timezone.now(),
        )
        class_type = ClassType.objects.create(name=f"Spin {tag}", booking_closes_minutes=0)
        starts_at = timezone.now() + timedelta(minutes=40)
        occurrence = ClassOccurrence.objects.create(
            class_type=class_type,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            capacity=12,
        )
        class_book(actor=owner, occurrence=occurrence, client=client)
    connection.set_schema_to_public()

    def clean_up() -> None:
        with tenant_context(gym):
            Payment.objects.filter(client=client, refund_of__isnull=False).delete()
            Payment.objects.filter(client=client).delete()
            EntitlementUse.objects.filter(client=client).delete()
            ClassBooking.objects.filter(occurrence=occurrence).delete()
            occurrence.delete()
            class_type.delete()
            CreditGrant.objects.filter(client=client).delete()
            Membership.objects.filter(client=client).delete()
            MembershipPlan.objects.filter(pk__in=[p.pk for p in plans]).delete()
            Pack.objects.filter(pk__in=[p.pk for p in packs]).delete()
            PromotionCode.objects.filter(pk=code.pk).delete()

    try:
        sign_in(page, base, owner.email, secret)
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            for name, path in (
                ("catalogue", "/billing/"),
                ("client", f"/clients/{client.pk}/"),
                ("failed-payments", "/billing/failed-payments/"),
                ("checkin", "/schedule/checkin/"),
            ):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if name == "client":
                    page.locator('[data-testid="sell"] summary').click()
                    page.locator("#billing").scroll_into_view_if_needed()
                page.screenshot(
                    path=str(SCREENSHOTS / f"billing-{name}-{width}.png"), full_page=True
                )
                if name == "failed-payments":
                    fee = page.get_by_test_id("failed-fee")
                    assert fee.count() == 1
                    assert fee.get_by_role("button", name="Record as paid").is_visible()
                    assert "15.00" in fee.inner_text()
                if name == "client":
                    assert page.get_by_test_id("card-on-file").inner_text().endswith("0341")
        assert "Past due" in page.content()
        page.context.clear_cookies()
        sign_in(page, base, user.email)
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.goto(base + "/portal/memberships/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENSHOTS / f"billing-portal-{width}.png"), full_page=True)
        assert "10 of 10 left" in page.content()
    finally:
        clean_up()
