"""A web process remembers which gym a host belongs to (GymTenantMiddleware)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.tenants.middleware import clear_gym_cache
from apps.tenants.models import Domain, Gym


@pytest.fixture
def remembered(settings):
    settings.TENANT_CACHE_SECONDS = 60
    clear_gym_cache()
    yield
    clear_gym_cache()


def domain_queries(host: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = Client(HTTP_HOST=host).get("/health/live")
    assert response.status_code == 200
    return response.status_code, sum("tenants_domain" in q["sql"] for q in queries)


def schema_seen(host: str) -> str:
    """The schema a request on `host` runs in, as a view sees it."""
    Client(HTTP_HOST=host).get("/health/live")
    return connection.schema_name


def test_a_known_host_is_looked_up_once(remembered, gym_a):
    assert domain_queries("alpha.localhost") == (200, 1)
    assert domain_queries("alpha.localhost") == (200, 0)
    # Another gym's host is its own entry: it never gets alpha's gym.
    assert domain_queries("bravo.localhost") == (200, 1)
    assert schema_seen("bravo.localhost") == Gym.objects.get(subdomain="bravo").schema_name
    assert schema_seen("alpha.localhost") == gym_a.schema_name


def test_a_changed_domain_is_looked_up_again(remembered, gym_a):
    domain_queries("alpha.localhost")
    domain = Domain.objects.get(domain="alpha.localhost")
    domain.domain = "alpha-renamed.localhost"
    domain.save()
    # The old host is forgotten at once in this process: it is no gym's any more.
    response = Client(HTTP_HOST="alpha.localhost").get("/api/v1/gym/")
    assert response.status_code == 404
    assert schema_seen("alpha-renamed.localhost") == gym_a.schema_name


def test_unknown_hosts_are_not_remembered(remembered, gym_a):
    assert Client(HTTP_HOST="nobody-here.localhost").get("/api/v1/gym/").status_code == 404
    gym_a.domains.create(domain="nobody-here.localhost", is_primary=False)
    # A gym's new host answers at once, though it was asked for a moment ago.
    assert schema_seen("nobody-here.localhost") == gym_a.schema_name


def test_each_request_gets_its_own_gym_object(remembered, gym_a, rf):
    from apps.tenants.middleware import GymTenantMiddleware

    middleware = GymTenantMiddleware(lambda request: None)
    first = middleware.get_tenant(Domain, "alpha.localhost")
    first.domain_url = "changed by a request"
    second = middleware.get_tenant(Domain, "alpha.localhost")
    assert second is not first
    assert second.pk == gym_a.pk
    assert getattr(second, "domain_url", None) != "changed by a request"


def test_off_when_seconds_is_zero(settings, gym_a):
    settings.TENANT_CACHE_SECONDS = 0
    assert domain_queries("alpha.localhost") == (200, 1)
    assert domain_queries("alpha.localhost") == (200, 1)
