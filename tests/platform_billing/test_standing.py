"""The platform billing its gyms: off changes nothing; a trial at sign-up; a lapse shows a
banner, then read-only after the grace period (writes refused, reads fine, nothing deleted);
paying restores at once; one gym's standing never touches another's."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.crm.models import Client
from apps.platform_billing.models import GymSubscription, PlatformStripeEvent
from apps.platform_billing.selectors import application_fee_for, gym_standing
from apps.tenants.services import gym_create
from tests.conftest import GymClient, make_user
from tests.platform_billing.conftest import event_payload, platform_deliver, standing_set

pytestmark = pytest.mark.django_db

NEW_CLIENT = {
    "first_name": "Zed",
    "last_name": "Read",
    "email": "zed@example.com",
    "status": "active",
    "joined_on": "2026-01-05",
}


def _clients(gym) -> int:
    with tenant_context(gym):
        return Client.objects.count()


def test_off_by_default_changes_nothing(settings, gym_a, owner_client_a):
    assert settings.PLATFORM_BILLING is False
    standing_set(gym_a, status="past_due", lapsed_days_ago=60)
    page = owner_client_a.get("/")
    assert page.status_code == 200
    assert b'data-testid="platform-banner"' not in page.content
    before = _clients(gym_a)
    response = owner_client_a.post("/clients/new/", NEW_CLIENT)
    assert response.status_code in (200, 302)
    assert _clients(gym_a) == before + 1
    assert owner_client_a.get("/billing/subscription/").status_code == 404
    assert application_fee_for(gym_a, 10_000) is None


def test_off_no_trial_at_signup(settings, db):
    gym = gym_create(name="Quiet Gym", subdomain="quietgym", owner_email="o@quiet.example")
    assert not GymSubscription.objects.filter(gym=gym).exists()


def test_trial_starts_at_signup(billing_on, db):
    billing_on.PLATFORM_BILLING_TRIAL_DAYS = 14
    gym = gym_create(name="New Gym", subdomain="newgym", owner_email="o@new.example")
    row = GymSubscription.objects.get(gym=gym)
    assert row.status == "trialing"
    assert abs(row.trial_ends_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    assert not gym_standing(gym=gym).lapsed


def test_trial_ended_unpaid_lapses(billing_on, gym_a):
    standing_set(gym_a, status="trialing", trial_ends_at=timezone.now() - timedelta(days=15))
    standing = gym_standing(gym=gym_a)
    assert standing.lapsed
    assert standing.read_only


def test_banner_after_lapse_but_still_writable(billing_on, gym_a, owner_client_a):
    standing_set(gym_a, status="past_due", lapsed_days_ago=2)
    page = owner_client_a.get("/")
    assert b'data-testid="platform-banner"' in page.content
    assert b'data-testid="platform-banner-link"' in page.content
    before = _clients(gym_a)
    assert owner_client_a.post("/clients/new/", NEW_CLIENT).status_code in (200, 302)
    assert _clients(gym_a) == before + 1


def test_no_banner_in_good_standing(billing_on, gym_a, owner_client_a):
    standing_set(gym_a, status="active")
    assert b'data-testid="platform-banner"' not in owner_client_a.get("/").content


def test_read_only_after_grace_then_restored_by_payment(
    billing_on, gym_a, owner_client_a, public_client
):
    row = standing_set(
        gym_a, status="past_due", lapsed_days_ago=15, stripe_subscription_id="sub_alpha"
    )
    before = _clients(gym_a)
    refused = owner_client_a.post("/clients/new/", NEW_CLIENT)
    assert refused.status_code == 402
    assert b'data-testid="platform-read-only"' in refused.content
    assert _clients(gym_a) == before
    # Reading still works, with the banner; nothing was deleted.
    page = owner_client_a.get("/clients/")
    assert page.status_code == 200
    assert b"This gym is read-only." in page.content
    # An htmx request reloads its page, whose banner says why.
    partial = owner_client_a.post("/clients/new/", NEW_CLIENT, HTTP_HX_REQUEST="true")
    assert partial.status_code == 402
    assert partial["HX-Refresh"] == "true"
    # The API answers with a problem document.
    api = owner_client_a.post("/api/v1/clients/", NEW_CLIENT, content_type="application/json")
    assert api.status_code == 402
    assert api["Content-Type"] == "application/problem+json"
    assert api.json()["type"].endswith("/subscription-lapsed")
    assert owner_client_a.get("/api/v1/clients/").status_code == 200
    assert owner_client_a.delete("/api/v1/clients/1/").status_code == 402
    # Signing out stays open.
    assert owner_client_a.post("/accounts/logout/").status_code != 402

    paid = event_payload(
        "invoice.paid", {"object": "invoice", "id": "in_1", "subscription": "sub_alpha"}
    )
    assert platform_deliver(public_client, paid).status_code == 200
    row.refresh_from_db()
    assert row.status == "active"
    assert row.lapsed_at is None
    client = owner_client_a
    client.force_login(client_owner(gym_a))
    assert client.post("/clients/new/", NEW_CLIENT).status_code in (200, 302)
    assert _clients(gym_a) == before + 1


def client_owner(gym):
    from apps.accounts.models import User

    with tenant_context(gym):
        return User.objects.get(role=Role.OWNER)


def test_one_gym_never_affects_another(billing_on, gym_a, gym_b, owner_client_b, public_client):
    standing_set(gym_a, status="unpaid", lapsed_days_ago=30, stripe_subscription_id="sub_a")
    row_b = standing_set(gym_b, status="active", stripe_subscription_id="sub_b")
    page = owner_client_b.get("/")
    assert b'data-testid="platform-banner"' not in page.content
    before = _clients(gym_b)
    assert owner_client_b.post("/clients/new/", NEW_CLIENT).status_code in (200, 302)
    assert _clients(gym_b) == before + 1
    # An event about A's subscription changes only A's row.
    failed = event_payload(
        "customer.subscription.deleted",
        {"object": "subscription", "id": "sub_a", "status": "canceled", "customer": "cus_a"},
    )
    assert platform_deliver(public_client, failed).status_code == 200
    row_b.refresh_from_db()
    assert row_b.status == "active"
    assert row_b.lapsed_at is None
    assert GymSubscription.objects.get(gym=gym_a).status == "canceled"


def test_events_once_and_in_order(billing_on, gym_a, public_client):
    row = standing_set(gym_a, status="active", stripe_subscription_id="sub_alpha")
    now = int(time.time())
    failed = event_payload(
        "invoice.payment_failed",
        {"object": "invoice", "id": "in_2", "subscription": "sub_alpha"},
        created=now,
    )
    platform_deliver(public_client, failed)
    platform_deliver(public_client, failed)
    row.refresh_from_db()
    lapsed_at = row.lapsed_at
    assert row.status == "past_due"
    assert lapsed_at is not None
    assert PlatformStripeEvent.objects.filter(event_id=failed["id"]).count() == 1
    # An older "paid" arriving late does not undo the newer failure.
    stale = event_payload(
        "invoice.paid",
        {"object": "invoice", "id": "in_1", "subscription": "sub_alpha"},
        created=now - 3600,
    )
    platform_deliver(public_client, stale)
    row.refresh_from_db()
    assert row.status == "past_due"
    assert row.lapsed_at == lapsed_at


def test_bad_signature_and_connect_events_change_nothing(billing_on, gym_a, public_client):
    row = standing_set(gym_a, status="active", stripe_subscription_id="sub_alpha")
    deleted = event_payload(
        "customer.subscription.deleted",
        {"object": "subscription", "id": "sub_alpha", "status": "canceled"},
    )
    assert platform_deliver(public_client, deleted, secret="whsec_wrong").status_code == 400
    stale = platform_deliver(public_client, deleted, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 400
    # A connected account's event (a gym's own customer) is not the platform's business.
    of_a_gym = event_payload(
        "customer.subscription.deleted",
        {"object": "subscription", "id": "sub_alpha", "status": "canceled"},
        account="acct_gym",
    )
    assert platform_deliver(public_client, of_a_gym).status_code == 200
    row.refresh_from_db()
    assert row.status == "active"
    assert not PlatformStripeEvent.objects.exists()


def test_platform_events_never_touch_a_gyms_own_billing(billing_on, gym_a, public_client):
    from apps.billing.models import Membership, Payment

    standing_set(gym_a, status="active", stripe_subscription_id="sub_alpha")
    with tenant_context(gym_a):
        counts = (Membership.objects.count(), Payment.objects.count())
    for event_type in ("customer.subscription.updated", "invoice.paid", "invoice.payment_failed"):
        obj = {"object": "subscription", "id": "sub_alpha", "status": "past_due"}
        if event_type.startswith("invoice"):
            obj = {"object": "invoice", "id": "in_9", "subscription": "sub_alpha"}
        obj["metadata"] = {"gym": gym_a.subdomain, "client": "1", "platform_gym": str(gym_a.pk)}
        assert platform_deliver(public_client, event_payload(event_type, obj)).status_code == 200
    with tenant_context(gym_a):
        assert (Membership.objects.count(), Payment.objects.count()) == counts


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK, Role.TRAINER])
def test_subscription_page_is_owner_only(billing_on, gym_a, role):
    with tenant_context(gym_a):
        user = make_user(role, f"{role}@alpha.example")
    client = GymClient(gym_a.subdomain)
    client.force_login(user)
    assert client.get("/billing/subscription/").status_code in (302, 403)
    assert client.post("/billing/subscription/card/").status_code in (302, 403)


def test_subscription_page_shows_own_gym_only(billing_on, gym_a, gym_b, plan, owner_client_a):
    standing_set(gym_a, status="trialing", trial_ends_at=timezone.now() + timedelta(days=3))
    standing_set(gym_b, status="unpaid", lapsed_days_ago=3, stripe_subscription_id="sub_b")
    page = owner_client_a.get("/billing/subscription/")
    assert page.status_code == 200
    assert b'data-testid="platform-trial-end"' in page.content
    assert b"Unpaid" not in page.content
    assert b'data-testid="platform-subscribe"' in page.content


def test_subscription_page_needs_mfa(billing_on, gym_a):
    client = GymClient(gym_a.subdomain)
    client.force_login(client_owner(gym_a))
    with tenant_context(gym_a):
        client_owner(gym_a).authenticator_set.all().delete()
    response = client.get("/billing/subscription/")
    assert response.status_code == 302
    assert "/2fa/" in response["Location"]


def test_application_fee(billing_on, gym_a):
    billing_on.PLATFORM_APPLICATION_FEE_PERCENT = "2.5"
    assert application_fee_for(gym_a, 10_000) == 250
    assert application_fee_for(gym_a, 39) is None
    billing_on.PLATFORM_APPLICATION_FEE_PERCENT = "0"
    assert application_fee_for(gym_a, 10_000) is None


def test_platform_admin_lists_gyms_with_their_status(
    billing_on, gym_a, gym_b, public_client, django_assert_max_num_queries
):
    from apps.accounts.models import User
    from tests.conftest import activate_totp

    standing_set(gym_a, status="past_due", lapsed_days_ago=3)
    standing_set(gym_b, status="active")
    operator = User.objects.create_superuser(
        email="operator@platform.example", password="x-Pass-1234", role=Role.OWNER
    )
    activate_totp(operator)
    public_client.force_login(operator)
    with django_assert_max_num_queries(20):
        page = public_client.get("/admin/platform_billing/gymsubscription/")
    assert page.status_code == 200
    text = page.content.decode()
    assert gym_a.name in text
    assert gym_b.name in text
    assert "Past due" in text


def test_djstripe_webhook_signals_keep_in_step(billing_on, gym_a):
    from types import SimpleNamespace

    from djstripe.models import Event
    from djstripe.signals import WEBHOOK_SIGNALS

    from apps.platform_billing.receivers import _from_djstripe

    row = standing_set(gym_a, status="active", stripe_subscription_id="sub_dj")
    event = SimpleNamespace(
        id="evt_dj_1",
        type="invoice.payment_failed",
        created=timezone.now(),
        data={"object": {"object": "invoice", "id": "in_dj", "subscription": "sub_dj"}},
        stripe_data={},
    )
    # dj-stripe's own handler (which syncs its models from Stripe) is not ours to run here.
    assert any(
        key[0] == "platform_billing:invoice.payment_failed"
        for key, *_ in WEBHOOK_SIGNALS["invoice.payment_failed"].receivers
    )
    _from_djstripe(sender=Event, event=event)
    _from_djstripe(sender=Event, event=event)
    row.refresh_from_db()
    assert row.status == "past_due"
    assert PlatformStripeEvent.objects.filter(event_id="evt_dj_1").count() == 1
    # A connected account's event through dj-stripe changes nothing.
    connected = SimpleNamespace(
        id="evt_dj_2",
        type="invoice.paid",
        created=timezone.now(),
        data={"object": {"object": "invoice", "id": "in_dj2", "subscription": "sub_dj"}},
        stripe_data={"account": "acct_gym"},
    )
    _from_djstripe(sender=Event, event=connected)
    row.refresh_from_db()
    assert row.status == "past_due"


def test_a_read_only_gyms_portal_says_why_writes_are_refused(billing_on, gym_a, client_a):
    from apps.crm.services import profile_ensure_for_role

    with tenant_context(gym_a):
        user = make_user(Role.CLIENT, "paula@alpha.example", first_name="Paula")
        profile_ensure_for_role(user=user)
    client_a.force_login(user)
    # Lapsed but still writable: nothing changes for clients, so nothing is said to them.
    standing_set(gym_a, status="past_due", lapsed_days_ago=2, stripe_subscription_id="sub_p")
    page = client_a.get("/portal/")
    assert page.status_code == 200
    assert b'data-testid="platform-banner"' not in page.content
    standing_set(gym_a, status="past_due", lapsed_days_ago=15, stripe_subscription_id="sub_p")
    page = client_a.get("/portal/")
    assert b'data-testid="platform-banner"' in page.content
    assert b"Booking and changes are paused for now." in page.content
    # Nothing about paying FitnessCRM, which is the gym's business.
    assert b"platform-banner-link" not in page.content
    assert b"This gym is read-only." not in page.content
