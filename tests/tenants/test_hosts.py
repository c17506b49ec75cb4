"""Each host gets its own gym, and a change to a gym's hosts shows on the next request."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from apps.tenants.models import Domain, Gym


def schema_seen(host: str) -> str:
    """The schema a request on `host` runs in, as a view sees it."""
    assert Client(HTTP_HOST=host).get("/health/live").status_code == 200
    return connection.schema_name


def test_each_host_gets_its_own_gym(gym_a):
    assert schema_seen("alpha.localhost") == gym_a.schema_name
    assert schema_seen("bravo.localhost") == Gym.objects.get(subdomain="bravo").schema_name
    assert schema_seen("alpha.localhost") == gym_a.schema_name


def test_a_changed_domain_shows_at_once(gym_a):
    schema_seen("alpha.localhost")
    domain = Domain.objects.get(domain="alpha.localhost")
    domain.domain = "alpha-renamed.localhost"
    domain.save()
    # The old host is no gym's any more.
    assert Client(HTTP_HOST="alpha.localhost").get("/api/v1/gym/").status_code == 404
    assert schema_seen("alpha-renamed.localhost") == gym_a.schema_name


def test_a_new_host_answers_at_once(gym_a):
    assert Client(HTTP_HOST="nobody-here.localhost").get("/api/v1/gym/").status_code == 404
    gym_a.domains.create(domain="nobody-here.localhost", is_primary=False)
    # A gym's new host answers at once, though it was asked for a moment ago.
    assert schema_seen("nobody-here.localhost") == gym_a.schema_name
