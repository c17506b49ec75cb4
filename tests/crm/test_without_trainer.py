"""Clients without a trainer: the owner's home counts them and links to the client list (and
the API) filtered the same way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.crm import selectors
from apps.crm.models import Client, ClientStatus
from tests.conftest import GymClient
from tests.crm.test_api import assert_field_error


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["first_name"] for row in response.json()["results"]]


@pytest.fixture
def more_clients(crm_a):  # type: ignore[no-untyped-def]
    """Besides Bob (active, no trainer): a churned client and a lead, who need no trainer, and a
    paused client, who does."""
    with tenant_context(crm_a.gym):
        Client.objects.create(first_name="Gone", status=ClientStatus.CHURNED)
        Client.objects.create(first_name="Maybe", status=ClientStatus.LEAD)
        Client.objects.create(first_name="Resting", status=ClientStatus.PAUSED)
    return crm_a


def test_api_filter_matches_the_home_count(api_as, more_clients):
    owner = api_as("owner")
    response = owner.get("/api/v1/clients/", {"has_trainer": "false"})
    assert response.status_code == 200
    assert sorted(_names(response)) == ["Bob", "Resting"]
    with tenant_context(more_clients.gym):
        counts = selectors.client_counts(viewer=more_clients.owner)
    assert counts["without_trainer"] == 2
    assert _names(owner.get("/api/v1/clients/", {"has_trainer": "true"})) == ["Ann", "Cara"]
    assert_field_error(owner.get("/api/v1/clients/", {"has_trainer": "nope"}), "has_trainer")
    # Within what the viewer may see: a trainer's clients all have a trainer.
    assert _names(api_as("tina").get("/api/v1/clients/", {"has_trainer": "false"})) == []


def test_web_list_filter_and_the_home_link(more_clients):
    web = GymClient("alpha")
    web.force_login(more_clients.owner)
    home = web.get("/").content.decode()
    assert "/clients/?has_trainer=false" in home
    body = web.get("/clients/", {"has_trainer": "false"}).content.decode()
    assert "Bob Baker" in body
    assert "Resting" in body
    for other in ("Ann Able", "Cara Cole", "Gone", "Maybe"):
        assert other not in body, other
    assert '<option value="false" selected>' in body


def test_the_filter_stays_in_its_gym(api_as, more_clients, crm_b):
    response = api_as("owner").get("/api/v1/clients/", {"has_trainer": "false"})
    ids = {row["id"] for row in response.json()["results"]}
    with tenant_context(crm_b.gym):
        bob_b = Client.objects.get(first_name="Bob").pk
    with tenant_context(more_clients.gym):
        assert ids <= set(Client.objects.values_list("pk", flat=True))
    assert len(ids) == 2
    assert bob_b == crm_b.bob.pk  # gym B has its own Bob, never listed on gym A's host


def test_the_filtered_list_keeps_a_flat_query_count(api_as, crm_a):
    with tenant_context(crm_a.gym):
        Client.objects.bulk_create(Client(first_name=f"Solo{n:02}") for n in range(40))
    api = api_as("owner")
    counts = []
    for page_size in (5, 40):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/clients/", {"has_trainer": "false", "page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
