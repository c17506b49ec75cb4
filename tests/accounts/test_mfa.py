"""Two-factor authentication: owners and managers set it up before the back office; everyone
then signs in with a code (or a recovery code)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from tests.conftest import ALPHA, PASSWORD, activate_totp, login, make_user, totp_code


def confirm_password(client) -> None:  # type: ignore[no-untyped-def]
    """allauth asks for the password again before security settings change."""
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302, response.content


def test_owner_must_set_up_mfa_before_admin_and_can_then_use_it(client_a, gym_a, owner_a):
    login(client_a, ALPHA.owner_email)
    response = client_a.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate/?next=%2Fadmin%2F")

    # The real activation flow: confirm the password, then the page shows a secret and the
    # owner types a code from it.
    confirm_password(client_a)
    assert client_a.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client_a.session["mfa.totp.secret"]
    response = client_a.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content
    with tenant_context(gym_a):
        assert Authenticator.objects.filter(user=owner_a, type=Authenticator.Type.TOTP).exists()
    assert client_a.get("/admin/").status_code == 200


def test_wrong_code_activates_nothing(client_a, gym_a, owner_a):
    login(client_a, ALPHA.owner_email)
    confirm_password(client_a)
    client_a.get("/accounts/2fa/totp/activate/")
    response = client_a.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    with tenant_context(gym_a):
        assert not Authenticator.objects.filter(user=owner_a).exists()


def test_login_asks_for_the_code_once_mfa_is_on(gym_a, owner_a):
    with tenant_context(gym_a):
        secret = activate_totp(owner_a)
    client = Client(HTTP_HOST=ALPHA.host)
    response = login(client, ALPHA.owner_email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not in yet
    assert client.post("/accounts/2fa/authenticate/", {"code": "123456"}).status_code == 200
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_recovery_codes_let_you_in_once(gym_a, owner_a):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    with tenant_context(gym_a):
        activate_totp(owner_a)
        codes = RecoveryCodes.activate(owner_a).get_unused_codes()
    client = Client(HTTP_HOST=ALPHA.host)
    login(client, ALPHA.owner_email)
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert client.get("/").status_code == 200

    again = Client(HTTP_HOST=ALPHA.host)
    login(again, ALPHA.owner_email)
    again.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert again.get("/").status_code == 302


def test_mfa_is_optional_for_trainers_and_clients(client_a, gym_a):
    with tenant_context(gym_a):
        trainer = make_user(Role.TRAINER, "trainer-mfa@alpha.example")
    response = login(client_a, trainer.email, PASSWORD)
    assert response.status_code == 302
    assert client_a.get("/").status_code == 200


def test_sessions_page_ends_other_sessions(gym_a, owner_a):
    first = Client(HTTP_HOST=ALPHA.host)
    second = Client(HTTP_HOST=ALPHA.host)
    login(first, ALPHA.owner_email)
    login(second, ALPHA.owner_email)
    page = first.get("/accounts/sessions/")
    assert page.status_code == 200
    response = first.post("/accounts/sessions/", {"action": "sign_out"})
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
