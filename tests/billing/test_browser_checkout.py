"""A client buys a class pack in the portal through Stripe Checkout, books a class with it, and
the owner sees the card payment in the client's ledger, in a real browser.

The gym (charlie, the browser gym) is connected to the fake Stripe (tests/fakes/stripe_connect.py)
and needs a membership or credits to book. The pack's Stripe Price comes from the catalogue push
to the fake. The fake's hosted Checkout page has a Pay button that completes the session and
delivers a signed `checkout.session.completed` to the webhook endpoint on the live server's
public host, as Stripe would, before sending the browser back to the portal.

Everything the test makes is removed after, but for the two users (deactivated: the audit
trail that names them is append-only)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.billing.models import (
    BillingSettings,
    CreditGrant,
    EntitlementUse,
    Pack,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from apps.billing.services import pack_create
from apps.connect.models import ConnectedAccount, StripeEvent, StripeEventStatus
from apps.crm.models import Client
from apps.crm.services import profile_ensure_for_role
from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from tests.billing.conftest import WEBHOOK_SECRET
from tests.billing.factories import require_memberships
from tests.conftest import BROWSER, activate_totp, make_user
from tests.fakes.stripe_connect import FakeStripeConnect

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, email: str, secret: str | None = None) -> None:
    from tests.browser.test_identity_csp import sign_in as identity_sign_in

    identity_sign_in(page, base, email, secret)


def test_a_client_buys_a_pack_through_checkout_and_books_with_it(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, stripe_fake: FakeStripeConnect, settings, page
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    emails = [f"checkout-owner-{tag}@charlie.example", f"checkout-client-{tag}@charlie.example"]
    settings.STRIPE_CHECKOUT_ORIGIN = stripe_fake.url
    stripe_fake.webhook_url = f"http://localhost:{live_server_port}/integrations/stripe/webhook/"
    stripe_fake.webhook_secret = WEBHOOK_SECRET
    account = stripe_fake.account_create()
    ConnectedAccount.objects.create(gym=gym, account_id=account["id"])
    with tenant_context(gym):
        saved_settings = BillingSettings.objects.first()
        required_before = saved_settings.memberships_required if saved_settings else None
    connection.set_schema_to_public()
    pack = class_type = None
    try:
        with tenant_context(gym):
            with transaction.atomic():
                owner = make_user(Role.OWNER, emails[0], first_name="Olive")
                secret = activate_totp(owner)
                user = make_user(Role.CLIENT, emails[1], first_name="Cleo", last_name="Card")
                profile_ensure_for_role(user=user)
                require_memberships()
                # Pushed to Stripe (the fake) once committed: the Price id comes back from there.
                pack = pack_create(
                    actor=owner, name=f"Five classes {tag}", credits=5, price=4500, expiry_days=60
                )
                class_type = ClassType.objects.create(name=f"Rowing {tag}")
                starts_at = (timezone.now() + timedelta(days=2)).replace(
                    minute=0, second=0, microsecond=0
                )
                occurrence = ClassOccurrence.objects.create(
                    class_type=class_type,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=45),
                    capacity=10,
                )
            client = Client.objects.get(user=user)
            pack.refresh_from_db()
            assert pack.stripe_price_id in stripe_fake.prices, pack.stripe_price_id
        connection.set_schema_to_public()

        # Without credits the class cannot be booked.
        sign_in(page, base, user.email)
        page.goto(f"{base}/portal/schedule/")
        open_class = page.locator(f'[data-testid="open-class"][data-occurrence="{occurrence.pk}"]')
        open_class.get_by_role("button", name="Book").click()
        expect(page.get_by_test_id("schedule-error")).to_be_visible()
        expect(page.get_by_test_id("no-bookings")).to_be_visible()

        # The client buys the pack: off to Stripe's hosted page, pays, and is back.
        page.goto(f"{base}/portal/memberships/")
        buy = page.get_by_test_id("buy")
        expect(buy).to_contain_text(f"Five classes {tag}")
        expect(page.get_by_test_id("my-billing")).not_to_contain_text(f"Five classes {tag}")
        page.get_by_test_id(f"buy-pack-{pack.pk}").click()
        page.wait_for_url(f"{stripe_fake.url}/pay/*")
        session_id = page.url.rsplit("/", 1)[-1]
        session = stripe_fake.sessions[session_id]
        assert session["stripe_account"] == account["id"]
        assert session["mode"] == "payment"
        expect(page.locator("body")).to_contain_text(pack.stripe_price_id)
        page.get_by_test_id("pay").click()
        page.wait_for_url(f"{base}/portal/memberships/?paid=1")
        assert stripe_fake.deliveries[-1] == ("checkout.session.completed", 200)
        event = StripeEvent.objects.get(account=account["id"])
        assert event.status == StripeEventStatus.PROCESSED
        assert event.gym_id == gym.pk
        expect(buy).to_contain_text("Thank you!")
        mine = page.get_by_test_id("my-billing")
        expect(mine).to_contain_text(f"Five classes {tag}")
        expect(mine).to_contain_text("5 of 5 left")

        # Now the class can be booked, and it took one credit.
        page.goto(f"{base}/portal/schedule/")
        open_class.get_by_role("button", name="Book").click()
        expect(page.get_by_test_id("schedule-notice")).to_contain_text(f"Rowing {tag}")
        booked = page.locator(f'[data-testid="my-booking"][data-occurrence="{occurrence.pk}"]')
        expect(booked.get_by_test_id("booking-status")).to_have_text("Booked")
        page.goto(f"{base}/portal/memberships/")
        expect(page.get_by_test_id("my-billing")).to_contain_text("4 of 5 left")

        # The owner sees the card payment in the client's ledger.
        page.context.clear_cookies()
        sign_in(page, base, owner.email, secret)
        page.goto(f"{base}/clients/{client.pk}/")
        billing = page.get_by_test_id("client-billing")
        expect(billing).to_contain_text("Membership & payments")
        expect(billing.get_by_test_id("client-credits")).to_contain_text("4 of 5")
        rows = billing.get_by_test_id("ledger-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(f"Card: Five classes {tag}")
        expect(rows.first).to_contain_text("45.00")
        expect(rows.first).to_contain_text("Paid")
        with tenant_context(gym):
            payment = Payment.objects.get(client=client)
            assert payment.kind == PaymentKind.CARD
            assert payment.status == PaymentStatus.SUCCEEDED
            assert payment.amount == 4500
            assert payment.stripe_id == stripe_fake.sessions[session_id]["payment_intent"]
            assert CreditGrant.objects.get(client=client).remaining == 4
        connection.set_schema_to_public()
    finally:
        connection.set_schema_to_public()
        stripe_fake.webhook_url = stripe_fake.webhook_secret = None
        StripeEvent.objects.filter(account=account["id"]).delete()
        ConnectedAccount.objects.filter(account_id=account["id"]).delete()
        with tenant_context(gym):
            clients = Client.objects.filter(user__email__in=emails)
            Payment.objects.filter(client__in=clients, refund_of__isnull=False).delete()
            Payment.objects.filter(client__in=clients).delete()
            EntitlementUse.objects.filter(client__in=clients).delete()
            if class_type is not None:
                ClassBooking.objects.filter(occurrence__class_type=class_type).delete()
                ClassOccurrence.objects.filter(class_type=class_type).delete()
                class_type.delete()
            CreditGrant.objects.filter(client__in=clients).delete()
            if pack is not None:
                Pack.objects.filter(pk=pack.pk).delete()
            if required_before is None:
                BillingSettings.objects.all().delete()
            else:
                BillingSettings.objects.update(memberships_required=required_before)
            clients.delete()
            # Their audit trail is append-only, so the users stay, unable to sign in.
            User.objects.filter(email__in=emails).update(is_active=False)
        connection.set_schema_to_public()
