"""The staff home page (/) on the CRM's small gym: management's overview, a trainer's own
clients and certifications, front desk's search and new leads, and clients sent to the portal."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.crm import services
from tests.crm import test_views

# The CRM's small gym and signing in, as the CRM's page tests have them.
crm = test_views.crm
as_user = test_views.as_user


def test_client_users_are_sent_to_the_portal(crm, client_a):
    response = as_user(client_a, crm["portal"]).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_owner_home_shows_todays_overview(crm, client_a):
    services.client_create(actor=crm["owner"], first_name="Tess", status="trial")
    body = as_user(client_a, crm["owner"]).get("/").content.decode()
    assert 'data-testid="dashboard-title"' in body
    assert 'data-testid="overview"' in body
    # Ann is active with a trainer; Bob is active without one; Tess is on trial without one.
    assert '<span class="crm-tile-number">2</span> Active clients' in body
    assert '<span class="crm-tile-number">1</span> On trial' in body
    assert '<span class="crm-tile-number">1</span> New leads this week' in body
    assert '<span class="crm-tile-number">2</span> Clients without a trainer' in body
    # Tina's certification expires within 30 days: named with her name.
    assert "First aid" in body
    assert "Tina T" in body
    assert "crm-cert-expiring" in body


def test_trainer_home_lists_my_clients_and_my_certifications(crm, client_a):
    services.certification_create(
        actor=crm["owner"],
        trainer=crm["tom"],
        name="Kettlebell level 1",
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    body = as_user(client_a, crm["tina_user"]).get("/").content.decode()
    assert 'data-testid="my-clients"' in body
    assert "Ann Able" in body
    assert "Bob Bloggs" not in body
    assert "First aid" in body
    assert "Kettlebell" not in body  # Tom's, not hers
    assert 'data-testid="overview"' not in body


def test_front_desk_home_has_search_and_new_leads(crm, client_a):
    body = as_user(client_a, crm["desk"]).get("/").content.decode()
    assert 'id="home-search"' in body
    assert "Lena Lead" in body
    assert "First aid" not in body  # certifications are management's business
    assert 'data-testid="overview"' not in body
