"""The trainer's Activity card links on: to the client's nutrition page for those who may set
their targets, and to the gym's sync overview for managers and owners."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.wearables.models import Connection
from tests.conftest import make_user
from tests.wearables.conftest import make_client
from tests.wearables.test_activity import make_trainer

NUTRITION = 'data-testid="client-nutrition-link"'
OVERVIEW = 'data-testid="sync-overview-link"'


def test_the_card_links_to_nutrition_and_the_sync_overview_for_whom_may_open_them(
    gym_a, owner_a, client_a
) -> None:
    _user, client = make_client(gym_a, "links@alpha.example")
    with tenant_context(gym_a):
        Connection.objects.create(client=client, provider="strava", kinds="workouts")
        manager = make_user(Role.MANAGER, "links-manager@alpha.example")
    coach = make_trainer(gym_a, owner_a, client)
    profile = f"/clients/{client.pk}/"
    nutrition = f"/wearables/nutrition/{client.pk}/"

    client_a.force_login(coach)
    html = client_a.get(profile).content.decode()
    assert NUTRITION in html
    assert f'href="{nutrition}"' in html
    assert OVERVIEW not in html  # the gym's overview is for managers and owners
    assert client_a.get(nutrition).status_code == 200
    assert client_a.get("/wearables/sync/").status_code == 403

    for person in (owner_a, manager):
        client_a.force_login(person)
        html = client_a.get(profile).content.decode()
        assert NUTRITION in html
        assert OVERVIEW in html
        assert 'href="/wearables/sync/"' in html
