"""A client manages their cards and reads their invoices in Stripe's Customer Portal: the
portal's Memberships page sends them there (and says "Update your card" once a payment
failed, which is where the failed payment's message leads). Against localstripe and our fake
of what it lacks (tests/fakes/stripe_connect.py), with nothing of ours mocked."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import services, stripe_gateway
from tests.billing.factories import make_plan
from tests.billing.test_pages import browser_as
from tests.connect.conftest import connect
from tests.crm.conftest import CrmGym, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401

PAGE = "/portal/memberships/"
CARDS = "/portal/memberships/cards/"


def portal_sessions(fake: FakeStripeConnect) -> list[tuple[str, str, str | None]]:
    return fake.calls("/v1/billing_portal/sessions")


def test_the_client_is_sent_to_their_own_customer_portal_on_the_gyms_account(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    account = connect(stripe_fake, crm_a.gym)
    cara = browser_as(crm_a, "cara")
    page = cara.get(PAGE)
    assert 'data-testid="manage-cards"' in page.content.decode()
    # The redirect to Stripe must be allowed by the page's CSP (form-action).
    assert "https://billing.stripe.com" in page["Content-Security-Policy"]

    response = cara.post(CARDS)

    assert response.status_code == 303
    assert response["Location"].startswith(f"{stripe_fake.url}/portal/bps_")
    ((method, _, stripe_account),) = portal_sessions(stripe_fake)
    assert (method, stripe_account) == ("POST", account.account_id)
    # The session is for Cara's own customer at the gym's account.
    customer = stripe_gateway.customer_ensure(gym=crm_a.gym, client=crm_a.cara)
    found = stripe_gateway.gym_client(crm_a.gym).v1.customers.retrieve(customer)
    assert found["metadata"]["client"] == str(crm_a.cara.pk)


def test_a_failed_payment_says_update_your_card(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    connect(stripe_fake, crm_a.gym)
    with tenant_context(crm_a.gym):
        plan = make_plan(crm_a.owner)
        membership = services.membership_sell(
            actor=crm_a.desk, client=crm_a.cara, plan=plan, payment_kind="offline_cash"
        )
        services.membership_mark_past_due(membership=membership, failed_at=timezone.now())
    page = browser_as(crm_a, "cara").get(PAGE).content.decode()
    assert "Update your card" in page
    assert 'data-testid="manage-cards"' in page


def test_a_gym_that_takes_no_cards_offers_no_portal_and_calls_no_stripe(
    crm_a: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    cara = browser_as(crm_a, "cara")
    assert 'data-testid="manage-cards"' not in cara.get(PAGE).content.decode()

    response = cara.post(CARDS, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "ask at the desk" in response.content.decode()
    assert portal_sessions(stripe_fake) == []


def test_staff_have_no_portal_and_gym_b_reaches_only_its_own_account(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
    stripe_fake: FakeStripeConnect,
) -> None:
    connect(stripe_fake, crm_a.gym)
    account_b = connect(stripe_fake, crm_b.gym)
    # Staff are not clients: the portal's pages are not theirs.
    assert browser_as(crm_a, "desk").post(CARDS).status_code in (302, 403, 404)
    assert portal_sessions(stripe_fake) == []
    # Gym B's client goes to gym B's account, never gym A's.
    response = browser_as(crm_b, "cara").post(CARDS)
    assert response.status_code == 303
    ((_, _, stripe_account),) = portal_sessions(stripe_fake)
    assert stripe_account == account_b.account_id
