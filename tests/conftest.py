"""Shared fixtures. Two gyms (alpha and bravo) are created once per test run, right after the
test database is migrated, and reused by every test; isolation tests play one against the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Migrate once (pytest-django), then create the two gyms every test can use."""
    from apps.tenants.services import gym_create

    with django_db_blocker.unblock():
        for spec in (ALPHA, BRAVO):
            if not Gym.objects.filter(subdomain=spec.subdomain).exists():
                gym_create(
                    name=spec.name,
                    subdomain=spec.subdomain,
                    owner_email=spec.owner_email,
                    owner_password=PASSWORD,
                )
        connection.set_schema_to_public()


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


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def client_a(db) -> Client:
    return Client(HTTP_HOST=ALPHA.host)


@pytest.fixture
def client_b(db) -> Client:
    return Client(HTTP_HOST=BRAVO.host)


@pytest.fixture
def api_client_a(db) -> APIClient:
    return APIClient(HTTP_HOST=ALPHA.host)


@pytest.fixture
def public_api_client(db) -> APIClient:
    return APIClient(HTTP_HOST="localhost")


def login(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the real allauth form, as a person would."""
    return client.post("/accounts/login/", {"login": email, "password": password})
