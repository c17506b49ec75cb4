"""The owner's Stripe page on the gym's host and the Connect OAuth round trip against the
fake Connect server: owner only, two-factor required, the account connected to the gym that
started the flow, its status shown, Disconnect deauthorising it."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import signing
from django.test import Client
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.connect.models import ConnectedAccount
from apps.connect.services import OAUTH_STATE_SALT
from tests.conftest import GymClient, activate_totp
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db

PAGE = "/billing/stripe/"


def as_user(crm: CrmGym, user, *, mfa: bool = True) -> GymClient:  # type: ignore[no-untyped-def]
    if mfa:
        with tenant_context(crm.gym):
            if not user.authenticator_set.exists():
                activate_totp(user)
    client = GymClient(crm.gym.subdomain)
    client.force_login(user)
    return client


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def follow_stripe(url: str) -> str:
    """What the owner's browser does on Stripe's authorize page: Stripe answers with a
    redirect to our callback, whose URL is returned."""
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=5)
    assert redirect.value.code == 302
    return redirect.value.headers["Location"]


def oauth_round_trip(owner_client: GymClient, public: Client) -> object:
    start = owner_client.get(f"{PAGE}connect/")
    assert start.status_code == 302
    callback = follow_stripe(start["Location"])
    parsed = urlparse(callback)
    assert parsed.netloc == "localhost"
    return public.get(parsed.path, parse_qs(parsed.query))


@pytest.fixture
def public() -> Client:
    return Client(HTTP_HOST="localhost")


def test_only_the_owner_with_two_factor_sees_the_page(stripe_fake, crm_a: CrmGym) -> None:
    assert GymClient(crm_a.gym.subdomain).get(PAGE).status_code == 302
    for role in ("manager", "desk", "tina", "cara"):
        client = as_user(crm_a, crm_a.user(role))
        assert client.get(PAGE).status_code == 403, role
        assert client.get(f"{PAGE}connect/").status_code == 403, role
        assert client.post(f"{PAGE}disconnect/").status_code == 403, role
    without_mfa = as_user(crm_a, crm_a.owner, mfa=False)
    for response in (without_mfa.get(PAGE), without_mfa.get(f"{PAGE}connect/")):
        assert response.status_code == 302
        assert "/accounts/2fa/totp/activate" in response["Location"]
    owner = as_user(crm_a, crm_a.owner)
    response = owner.get(PAGE)
    assert response.status_code == 200
    assert b'data-testid="stripe-connect"' in response.content


def test_connect_oauth_round_trip(stripe_fake, crm_a: CrmGym, public: Client) -> None:
    owner = as_user(crm_a, crm_a.owner)
    start = owner.get(f"{PAGE}connect/")
    authorize = urlparse(start["Location"])
    query = parse_qs(authorize.query)
    assert start["Location"].startswith(f"{stripe_fake.url}/oauth/authorize?")
    assert query["client_id"] == ["ca_test_fitnesscrm"]
    assert query["redirect_uri"] == ["http://localhost/integrations/stripe/connect/callback/"]
    assert query["scope"] == ["read_write"]

    response = oauth_round_trip(owner, public)
    assert response.status_code == 302
    assert response["Location"] == "http://alpha.localhost/billing/stripe/?result=connected"
    account = ConnectedAccount.objects.get(gym=crm_a.gym)
    assert account.account_id in stripe_fake.accounts
    assert account.charges_enabled
    assert account.payouts_enabled
    assert not account.livemode
    with tenant_context(crm_a.gym):
        event = AuditEvent.objects.get(action="billing.stripe_connected")
        assert event.actor == crm_a.owner
        assert event.object_id == account.account_id

    page = owner.get(PAGE + "?result=connected").content.decode()
    assert account.account_id in page
    assert 'data-testid="stripe-mode"' in page
    assert "Test mode" in page
    assert 'data-testid="stripe-disconnect"' in page


def test_cancelling_at_stripe_connects_nothing(stripe_fake, crm_a: CrmGym, public) -> None:
    stripe_fake.authorize_outcome = "deny"
    response = oauth_round_trip(as_user(crm_a, crm_a.owner), public)
    assert response["Location"].endswith("?result=cancelled")
    assert not ConnectedAccount.objects.exists()


def test_a_bad_or_expired_state_is_refused(stripe_fake, crm_a: CrmGym, public) -> None:
    callback = "/integrations/stripe/connect/callback/"
    assert public.get(callback, {"code": "ac_x", "state": "forged"}).status_code == 400
    other_salt = signing.dumps({"gym": crm_a.gym.schema_name, "user": 1}, salt="other")
    assert public.get(callback, {"code": "ac_x", "state": other_salt}).status_code == 400
    valid = signing.dumps({"gym": crm_a.gym.schema_name, "user": 1}, salt=OAUTH_STATE_SALT)
    # A code Stripe never issued: the exchange fails, nothing is connected.
    response = public.get(callback, {"code": "ac_never", "state": valid})
    assert response["Location"].endswith("?result=failed")
    assert not ConnectedAccount.objects.exists()


def test_the_callback_is_on_the_public_host_only(stripe_fake, client_a) -> None:
    assert client_a.get("/integrations/stripe/connect/callback/").status_code == 404


def test_disconnect_deauthorises_the_account(stripe_fake, crm_a: CrmGym, public) -> None:
    owner = as_user(crm_a, crm_a.owner)
    oauth_round_trip(owner, public)
    account = ConnectedAccount.objects.get(gym=crm_a.gym)
    response = owner.post(f"{PAGE}disconnect/")
    assert response.status_code == 302
    assert account.account_id in stripe_fake.deauthorized
    account.refresh_from_db()
    assert account.disconnected_at is not None
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="billing.stripe_disconnected").exists()
    page = owner.get(PAGE).content.decode()
    assert 'data-testid="stripe-disconnected"' in page
    assert 'data-testid="stripe-connect"' in page
    # Connecting again works (a new account, or the same one brought back).
    oauth_round_trip(owner, public)
    assert ConnectedAccount.objects.filter(gym=crm_a.gym, disconnected_at=None).count() == 1


def test_gym_b_cannot_see_or_disconnect_gym_as_account(
    stripe_fake, crm_a: CrmGym, crm_b: CrmGym, public
) -> None:
    oauth_round_trip(as_user(crm_a, crm_a.owner), public)
    account = ConnectedAccount.objects.get(gym=crm_a.gym)
    owner_b = as_user(crm_b, crm_b.owner)
    page = owner_b.get(PAGE).content.decode()
    assert account.account_id not in page
    owner_b.post(f"{PAGE}disconnect/")
    account.refresh_from_db()
    assert account.disconnected_at is None
    assert account.account_id not in stripe_fake.deauthorized
    # Gym A's owner's session is worth nothing on gym B's host.
    a_on_b = GymClient(crm_b.gym.subdomain)
    a_on_b.cookies = as_user(crm_a, crm_a.owner).cookies
    assert a_on_b.post(f"{PAGE}disconnect/").status_code == 302
    account.refresh_from_db()
    assert account.disconnected_at is None


def test_an_account_connected_to_another_gym_is_refused(
    stripe_fake, crm_a: CrmGym, crm_b: CrmGym, public
) -> None:
    oauth_round_trip(as_user(crm_a, crm_a.owner), public)
    account = ConnectedAccount.objects.get(gym=crm_a.gym)
    code = "ac_reuse"
    stripe_fake.codes[code] = account.account_id
    state = signing.dumps({"gym": crm_b.gym.schema_name, "user": 1}, salt=OAUTH_STATE_SALT)
    response = public.get("/integrations/stripe/connect/callback/", {"code": code, "state": state})
    assert response["Location"].endswith("?result=failed")
    assert ConnectedAccount.objects.get(account_id=account.account_id).gym == crm_a.gym


def test_direct_mode_has_nothing_to_connect(stripe_fake, crm_a: CrmGym, settings) -> None:
    settings.STRIPE_MODE = "direct"
    owner = as_user(crm_a, crm_a.owner)
    page = owner.get(PAGE).content.decode()
    assert 'data-testid="stripe-connect"' not in page
    assert owner.get(f"{PAGE}connect/")["Location"] == PAGE
