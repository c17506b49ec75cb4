"""Abuse protection: axes lockouts on every login path, unlocking by management, throttling of
the public sign-up, and the password rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.lockouts import lockout_clear, lockout_list
from apps.accounts.models import Role, User
from apps.tenants.models import Gym
from apps.tenants.services import gym_validate
from tests.conftest import ALPHA, PASSWORD, login, make_user

pytestmark = pytest.mark.django_db

VICTIM = "victim@alpha.example"
MANAGER = "manager@alpha.example"
TRAINER = "trainer@alpha.example"
WRONG = "not the right password"


@pytest.fixture
def people(gym_a: Gym) -> dict[str, User]:
    with tenant_context(gym_a):
        return {
            "victim": make_user(Role.CLIENT, VICTIM),
            "manager": make_user(Role.MANAGER, MANAGER),
            "trainer": make_user(Role.TRAINER, TRAINER),
        }


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def lockout_signals() -> Iterator[list[dict]]:
    received: list[dict] = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        received.append(kwargs)

    user_locked_out.connect(receiver)
    yield received
    user_locked_out.disconnect(receiver)


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def app_login(client: APIClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, format="json"
    )


def lock_out_on_the_web(client: Client, limit: int) -> None:
    for _ in range(limit - 1):
        assert login(client, VICTIM, WRONG).status_code == 200  # the form with its error
    assert login(client, VICTIM, WRONG).status_code == 429


# --- Lockouts -----------------------------------------------------------------------------


def test_web_login_locks_out_after_the_limit(people, limit, lockout_signals, gym_a):
    client = Client(HTTP_HOST=ALPHA.host)
    for attempt in range(limit - 1):
        # Case does not matter: every spelling counts against the one account.
        email = VICTIM.upper() if attempt % 2 else VICTIM
        response = login(client, email, WRONG)
        assert response.status_code == 200
        assert response.context["form"].errors

    response = login(client, VICTIM, WRONG)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"  # AXES_COOLOFF_TIME: one hour
    assert "Too many failed login attempts" in response.content.decode()
    assert "Content-Security-Policy" in response
    assert [signal["username"] for signal in lockout_signals] == [VICTIM]

    # Locked: the right password is refused too.
    response = login(client, VICTIM, PASSWORD)
    assert response.status_code == 429
    assert not is_logged_in(client)

    with tenant_context(gym_a):
        attempts = AccessAttempt.objects.filter(username=VICTIM)
        assert sum(a.failures_since_start for a in attempts) == limit + 1
        assert {a.ip_address for a in attempts} == {"127.0.0.1"}


def test_lockout_is_per_account_and_ip(people, limit):
    lock_out_on_the_web(Client(HTTP_HOST=ALPHA.host), limit)

    elsewhere = Client(HTTP_HOST=ALPHA.host, REMOTE_ADDR="198.51.100.7")
    assert login(elsewhere, VICTIM).status_code == 302
    assert is_logged_in(elsewhere)

    # Other accounts behind the locked-out IP are not affected.
    colleague = Client(HTTP_HOST=ALPHA.host)
    assert login(colleague, TRAINER).status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lockout(people, limit):
    """No trusted proxy in front (TRUSTED_PROXY_COUNT=0): the header is the client's to forge."""
    client = Client(HTTP_HOST=ALPHA.host)
    for n in range(limit):
        client.defaults["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}"
        response = login(client, VICTIM, WRONG)
    assert response.status_code == 429


def test_headless_app_login_is_locked_out(people, limit):
    client = APIClient(HTTP_HOST=ALPHA.host)
    for _ in range(limit - 1):
        assert app_login(client, VICTIM, WRONG).status_code == 400

    response = app_login(client, VICTIM, WRONG)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    body = response.json()
    assert body["status"] == 429
    assert body["errors"][0]["code"] == "too_many_login_attempts"

    response = app_login(client, VICTIM, PASSWORD)
    assert response.status_code == 429
    assert "session_token" not in response.json().get("meta", {})


def test_lockout_covers_every_login_path(people, limit):
    """Failures on the app API lock the web form and the browser API too (same account, IP)."""
    client = APIClient(HTTP_HOST=ALPHA.host)
    for _ in range(limit):
        app_login(client, VICTIM, WRONG)

    browser = APIClient(HTTP_HOST=ALPHA.host)
    response = browser.post(
        "/_allauth/browser/v1/auth/login",
        {"email": VICTIM, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "too_many_login_attempts"

    web = Client(HTTP_HOST=ALPHA.host)
    assert login(web, VICTIM).status_code == 429
    assert not is_logged_in(web)


def test_a_successful_login_below_the_limit_resets_the_count(people, limit):
    client = Client(HTTP_HOST=ALPHA.host)
    for _ in range(limit - 1):
        login(client, VICTIM, WRONG)
    assert login(client, VICTIM).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert login(client, VICTIM, WRONG).status_code == 200


# --- Unlocking ----------------------------------------------------------------------------


def test_manager_sees_and_clears_a_lockout(people, limit, settings):
    # allauth's own per-account counter fills up at the same time, so the unlock has to
    # clear that one too.
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": f"100/m/ip,{limit}/15m/key",
    }
    victim = Client(HTTP_HOST=ALPHA.host)
    lock_out_on_the_web(victim, limit)

    manager = Client(HTTP_HOST=ALPHA.host, REMOTE_ADDR="198.51.100.20")
    assert login(manager, MANAGER).status_code == 302
    page = manager.get("/accounts/lockouts/")
    assert page.status_code == 200
    assert [(lock.username, lock.ip_address) for lock in page.context["lockouts"]] == [
        (VICTIM, "127.0.0.1")
    ]
    assert VICTIM in page.content.decode()

    response = manager.post("/accounts/lockouts/", {"username": VICTIM})
    assert response.status_code == 302
    assert manager.get("/accounts/lockouts/").context["lockouts"] == []

    assert login(victim, VICTIM).status_code == 302
    assert is_logged_in(victim)


def test_trainer_cannot_see_or_clear_lockouts(people, limit, gym_a):
    lock_out_on_the_web(Client(HTTP_HOST=ALPHA.host), limit)

    trainer = Client(HTTP_HOST=ALPHA.host, REMOTE_ADDR="198.51.100.30")
    assert login(trainer, TRAINER).status_code == 302
    assert trainer.get("/accounts/lockouts/").status_code == 403
    assert trainer.post("/accounts/lockouts/", {"username": VICTIM}).status_code == 403

    with tenant_context(gym_a):
        with pytest.raises(PermissionDenied):
            lockout_list(viewer=people["trainer"])
        with pytest.raises(PermissionDenied):
            lockout_clear(actor=people["trainer"], username=VICTIM)
        assert AccessAttempt.objects.filter(username=VICTIM).exists()  # still locked
    assert login(Client(HTTP_HOST=ALPHA.host), VICTIM).status_code == 429


def test_anonymous_visitor_is_sent_to_log_in(people):
    response = Client(HTTP_HOST=ALPHA.host).get("/accounts/lockouts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_lockout_list_leaves_out_attempts_below_the_limit(people, limit, gym_a):
    client = Client(HTTP_HOST=ALPHA.host)
    for _ in range(limit - 1):
        login(client, TRAINER, WRONG)
    lock_out_on_the_web(client, limit)

    with tenant_context(gym_a):
        lockouts = lockout_list(viewer=people["manager"])
        assert [lock.username for lock in lockouts] == [VICTIM]
        assert lockouts[0].failures == limit
        assert lockouts[0].locked_until > lockouts[0].last_failure

        assert lockout_clear(actor=people["manager"], username=VICTIM.upper()) == 1
        assert lockout_list(viewer=people["manager"]) == []


# --- Throttling ---------------------------------------------------------------------------


@pytest.fixture
def strict_rates(monkeypatch) -> None:
    """DRF binds the rates to the class when it is imported, so patch them there."""
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "auth": "2/min", "anon": "3/min", "user": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def test_sign_up_api_is_throttled(strict_rates, public_api_client: APIClient):
    for _ in range(2):
        assert public_api_client.post("/api/v1/gyms/", {}, format="json").status_code == 400

    response = public_api_client.post("/api/v1/gyms/", {}, format="json")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 429
    assert body["type"].endswith("/throttled")
    assert body["instance"] == "/api/v1/gyms/"


def test_sign_up_page_is_throttled(strict_rates, public_client: Client):
    assert public_client.get("/signup/").status_code == 200
    for _ in range(2):
        assert public_client.post("/signup/", {"name": ""}).status_code == 200  # form errors

    response = public_client.post("/signup/", {"name": ""})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "Too many requests" in response.content.decode()
    # Looking at the form is not limited, only submitting it.
    assert public_client.get("/signup/").status_code == 200


def test_sign_up_page_and_api_share_one_budget_per_ip(strict_rates, public_client: Client):
    public_client.post("/signup/", {"name": ""})
    public_client.post("/api/v1/gyms/", {}, content_type="application/json")
    assert public_client.post("/signup/", {"name": ""}).status_code == 429
    other_ip = Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.40")
    assert other_ip.post("/signup/", {"name": ""}).status_code == 200


def test_anonymous_and_user_api_throttles(strict_rates, people):
    anonymous = APIClient(HTTP_HOST=ALPHA.host)
    for _ in range(3):
        assert anonymous.get("/api/v1/schema/").status_code == 200
    response = anonymous.get("/api/v1/schema/")
    assert response.status_code == 429
    assert "Retry-After" in response

    member = APIClient(HTTP_HOST=ALPHA.host)
    assert login(member, TRAINER).status_code == 302
    for _ in range(3):
        assert member.get("/api/v1/schema/").status_code == 200
    assert member.get("/api/v1/schema/").status_code == 429


# --- Password rules -----------------------------------------------------------------------


def validate_owner_password(password: str) -> None:
    gym_validate(
        name="Passphrase Gym",
        subdomain="passphrase-gym",
        owner_email="owner@passphrase.example",
        owner_password=password,
    )


def test_a_long_passphrase_is_accepted(db):
    passphrase = ("correct horse battery staple " * 8)[:200]
    assert len(passphrase) == 200
    validate_owner_password(passphrase)


@pytest.mark.parametrize("password", ["9chars!Xq", "password1234"])
def test_short_or_common_passwords_are_refused(db, password):
    with pytest.raises(ValidationError) as excinfo:
        validate_owner_password(password)
    assert set(excinfo.value.message_dict) == {"owner_password"}
