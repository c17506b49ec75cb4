"""Failed logins are counted by the one client address rule (apps.core.client_address), per
(account, address), per account across addresses and per address across accounts, on the web
login and on both headless logins alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.tenants.models import Gym
from tests.conftest import ALPHA, PASSWORD, make_user

pytestmark = pytest.mark.django_db

VICTIM = "victim@alpha.example"
OTHER = "other@alpha.example"
WRONG = "not the right password"


@pytest.fixture
def people(gym_a: Gym) -> None:
    with tenant_context(gym_a):
        make_user(Role.CLIENT, VICTIM)
        make_user(Role.CLIENT, OTHER)


def web(meta: dict[str, str]) -> Callable[[str, str], object]:
    client = Client(HTTP_HOST=ALPHA.host, **meta)
    return lambda email, password: client.post(
        "/accounts/login/", {"login": email, "password": password}
    )


def headless(path: str) -> Callable[[dict[str, str]], Callable[[str, str], object]]:
    def make(meta: dict[str, str]) -> Callable[[str, str], object]:
        client = APIClient(HTTP_HOST=ALPHA.host, **meta)
        return lambda email, password: client.post(
            path, {"email": email, "password": password}, format="json"
        )

    return make


LOGINS = {
    "web": (web, 302),
    "app": (headless("/_allauth/app/v1/auth/login"), 200),
    "browser": (headless("/_allauth/browser/v1/auth/login"), 200),
}


@pytest.fixture(params=list(LOGINS))
def login_path(request):  # type: ignore[no-untyped-def]
    return LOGINS[request.param]


def is_lockout(response) -> bool:  # type: ignore[no-untyped-def]
    # Axes' answer (apps.accounts.lockout_views): 429 with the whole cool-off to wait.
    return response.status_code == 429 and response["Retry-After"] == "3600"


@pytest.mark.parametrize(
    ("proxies", "forwarded"),
    [
        (0, "203.0.113.{n}"),
        (1, "203.0.113.{n}, 198.51.100.5"),
        (2, "203.0.113.{n}, 198.51.100.5, 10.0.0.1"),
    ],
)
def test_the_lockout_holds_while_the_forwarding_header_rotates(
    people, login_path, settings, proxies, forwarded
):
    """The client writes what comes before our proxies' entries; rotating it is one client."""
    settings.TRUSTED_PROXY_COUNT = proxies
    make, _ = login_path
    responses = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt = make({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded.format(n=n)})
        responses.append(attempt(VICTIM, WRONG))
    assert is_lockout(responses[-1])
    attempt = make({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded.format(n=99)})
    assert is_lockout(attempt(VICTIM, PASSWORD))


def test_one_account_is_locked_across_addresses(people, login_path, settings):
    """Guesses at one account from many addresses, none of them reaching the per-address
    limit, lock the account everywhere."""
    make, success = login_path
    limit = settings.AXES_ACCOUNT_FAILURE_LIMIT
    assert limit < settings.AXES_ADDRESS_FAILURE_LIMIT
    for n in range(limit):
        response = make({"REMOTE_ADDR": f"198.51.100.{n}"})(VICTIM, WRONG)
    assert is_lockout(response)
    assert is_lockout(make({"REMOTE_ADDR": "192.0.2.200"})(VICTIM, PASSWORD))
    # Another account from one of those addresses is not affected.
    assert make({"REMOTE_ADDR": "198.51.100.0"})(OTHER, PASSWORD).status_code == success


def test_one_address_is_locked_across_accounts(people, login_path, settings):
    """Guesses at many accounts from one address lock that address, even out of the right
    password for a real account; other addresses are not affected."""
    # Under allauth's own 10 a minute per address, so what answers is axes.
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    make, success = login_path
    attempt = make({"REMOTE_ADDR": "203.0.113.9"})
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        response = attempt(f"guess{n}@alpha.example", WRONG)
    assert is_lockout(response)
    assert is_lockout(attempt(VICTIM, PASSWORD))
    assert make({"REMOTE_ADDR": "203.0.113.10"})(VICTIM, PASSWORD).status_code == success


def test_a_login_to_ones_own_account_does_not_clear_the_addresss_count(
    people, login_path, settings
):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    make, success = login_path
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        make({"REMOTE_ADDR": "203.0.113.9"})(f"guess{n}@alpha.example", WRONG)
    assert make({"REMOTE_ADDR": "203.0.113.9"})(OTHER, PASSWORD).status_code == success
    assert is_lockout(make({"REMOTE_ADDR": "203.0.113.9"})("guess99@alpha.example", WRONG))


def test_an_account_locked_across_addresses_is_listed_and_cleared(people, settings, gym_a):
    from apps.accounts.lockouts import lockout_clear, lockout_list

    attempt = LOGINS["web"][0]
    for n in range(settings.AXES_ACCOUNT_FAILURE_LIMIT):
        attempt({"REMOTE_ADDR": f"198.51.100.{n}"})(VICTIM, WRONG)
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "manager@alpha.example")
        lockouts = lockout_list(viewer=manager)
        assert [(lock.username, lock.ip_address) for lock in lockouts] == [(VICTIM, None)]
        assert lockouts[0].failures == settings.AXES_ACCOUNT_FAILURE_LIMIT
        lockout_clear(actor=manager, username=VICTIM)
    assert attempt({"REMOTE_ADDR": "192.0.2.200"})(VICTIM, PASSWORD).status_code == 302
