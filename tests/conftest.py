"""Shared fixtures. Two gyms (alpha and bravo) are created once per test run, right after the
test database is migrated, and reused by every test; isolation tests play one against the other.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection
from django.test import Client
from django.test.testcases import LiveServerThread
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.tenants.models import Gym

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class GymSpec:
    name: str
    subdomain: str
    owner_email: str

    @property
    def host(self) -> str:
        return f"{self.subdomain}.localhost"


ALPHA = GymSpec("Alpha Fitness", "alpha", "owner@alpha.example")
BRAVO = GymSpec("Bravo Barbell", "bravo", "owner@bravo.example")
# Browser tests commit what they do, and audit events can never be deleted: they get a gym of
# their own so nothing they leave behind reaches the tests that use alpha and bravo.
BROWSER = GymSpec("Charlie Conditioning", "charlie", "owner@charlie.example")


# The database the settings name, before any test database replaces it.
CONFIGURED_DB_NAME = connection.settings_dict["NAME"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    """Migrate once (pytest-django), then create the two gyms every test can use."""
    from django.test.utils import setup_databases, teardown_databases

    from apps.tenants.services import gym_create

    own_setup = None
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] == CONFIGURED_DB_NAME:
            # pytest-django sets up a test database only for the tests it knows use one; a run
            # of browser tests alone (our own live server) would otherwise write to the
            # developer's database.
            keepdb = django_db_keepdb and not django_db_createdb
            own_setup = setup_databases(
                verbosity=0, interactive=False, keepdb=keepdb, aliases={"default"}
            )
        for spec in (ALPHA, BRAVO, BROWSER):
            if not Gym.objects.filter(subdomain=spec.subdomain).exists():
                gym_create(
                    name=spec.name,
                    subdomain=spec.subdomain,
                    owner_email=spec.owner_email,
                    owner_password=PASSWORD,
                )
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        # A live server's request thread that a browser kept a connection to may still hold a
        # database session; dropping the test database would fail on it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        if own_setup is not None:
            teardown_databases(own_setup, verbosity=0, keepdb=keepdb)


def pytest_unconfigure(config: pytest.Config) -> None:
    """With no DATABASE_URL the suite ran on an embedded server of its own: stop it, so a run
    leaves nothing behind (pytest-django has closed every connection by now)."""
    if not os.environ.get("DATABASE_URL") and os.environ.get("EMBEDDED_DB_DIR"):
        from fitnesscrm import embedded_db

        embedded_db.stop(Path(os.environ["EMBEDDED_DB_DIR"]))


@pytest.fixture(autouse=True)
def _public_schema_between_tests() -> Iterator[None]:
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _keep_test_connection_open(monkeypatch) -> None:
    """Channels closes "old" connections around every database_sync_to_async call; inside a
    test's transaction that would close the test's own connection (Django's test client avoids
    the same trap by disconnecting close_old_connections from request signals)."""
    import channels.db

    monkeypatch.setattr(channels.db, "close_old_connections", lambda: None)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle and rate-limit counters live in the cache; each test starts with none, so
    one test's requests never throttle the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def gym_a(db) -> Gym:
    return Gym.objects.get(subdomain=ALPHA.subdomain)


@pytest.fixture
def gym_b(db) -> Gym:
    return Gym.objects.get(subdomain=BRAVO.subdomain)


@pytest.fixture
def in_gym_a(gym_a: Gym) -> Iterator[Gym]:
    """Run the test body inside gym A's schema."""
    with tenant_context(gym_a):
        yield gym_a


@pytest.fixture
def owner_a(gym_a: Gym) -> User:
    with tenant_context(gym_a):
        return User.objects.get(email=ALPHA.owner_email)


@pytest.fixture
def owner_b(gym_b: Gym) -> User:
    with tenant_context(gym_b):
        return User.objects.get(email=BRAVO.owner_email)


class GymClient(Client):
    """A test client for one gym's host; its login helpers run in that gym's schema, as a real
    login on that host would."""

    def __init__(self, gym_subdomain: str, **defaults: object) -> None:
        super().__init__(HTTP_HOST=f"{gym_subdomain}.localhost", **defaults)
        self.gym_subdomain = gym_subdomain

    def _in_gym(self):  # type: ignore[no-untyped-def]
        return tenant_context(Gym.objects.get(subdomain=self.gym_subdomain))

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        with self._in_gym():
            super().force_login(user, backend)
        connection.set_schema_to_public()


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def client_a(db) -> GymClient:
    return GymClient(ALPHA.subdomain)


@pytest.fixture
def client_b(db) -> GymClient:
    return GymClient(BRAVO.subdomain)


@pytest.fixture
def api_client_a(db) -> APIClient:
    return APIClient(HTTP_HOST=ALPHA.host)


@pytest.fixture
def public_api_client(db) -> APIClient:
    return APIClient(HTTP_HOST="localhost")


def login(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the real allauth form, as a person would."""
    return client.post("/accounts/login/", {"login": email, "password": password})


def activate_totp(user: User) -> str:
    """Set up an authenticator app for `user` the way allauth's own flow does; returns the
    secret so a test can compute codes."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def make_user(role: str, email: str, **extra: object) -> User:
    """A user of the current schema with a verified email, able to log in with PASSWORD."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(
        email=email,
        password=PASSWORD,
        role=role,
        is_staff=role in ("owner", "manager"),
        **extra,
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


# --- Browser tests ---------------------------------------------------------------------------
# A live server on loopback serving the test database, driven by Debian's Chromium through
# Playwright. Here rather than in tests/browser/ so that browser tests of every app share the
# one session-wide browser (two sync Playwright instances cannot run in one thread). Data a
# browser test creates is committed, so each test removes what it made.

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server_port(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A server for one test. Function-scoped on purpose: it needs the database unblocked, and
    an unblocked database must not outlive the test (later tests would write for real)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop
    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield thread.port
        thread.terminate()


@pytest.fixture(scope="session")
def browser(django_db_setup):  # type: ignore[no-untyped-def]
    # After the test database exists: Playwright's event loop would make Django refuse to
    # create it ("cannot call this from an async context").
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def committed_db(live_server_port) -> None:
    """Database access without pytest-django's rollback (the live server's unblocking covers
    the test too): what the test and the server write stays, so tests clean up after
    themselves."""
