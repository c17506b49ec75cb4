"""The client list API as its viewers see it: any write shows on the next request, however it
was made, and each viewer gets only their own page."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.crm.models import Assignment, Client

URL = "/api/v1/clients/"


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [row["full_name"] for row in response.json()["results"]]


def test_a_page_asked_for_again_is_the_same_json(api_as):
    owner = api_as("owner")
    first = owner.get(URL, {"page_size": 50})
    second = owner.get(URL, {"page_size": 50})
    assert second.content == first.content
    assert second["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "write",
    ["service", "queryset update", "raw sql", "delete", "trainer renamed", "assignment"],
)
def test_any_write_shows_at_once(api_as, crm_a, write):
    owner = api_as("owner")
    tina = api_as("tina")
    before_owner = owner.get(URL).json()
    before_tina = names(tina.get(URL))
    with tenant_context(crm_a.gym):
        bob = Client.objects.get(pk=crm_a.bob.pk)
        if write == "service":
            services.client_update(actor=crm_a.owner, client=bob, first_name="Robert")
        elif write == "queryset update":
            Client.objects.filter(pk=bob.pk).update(first_name="Robert")
        elif write == "raw sql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE crm_client SET first_name = 'Robert' WHERE id = %s", [bob.pk]
                )
        elif write == "delete":
            services.client_delete(actor=crm_a.owner, client=bob)
        elif write == "trainer renamed":
            user = crm_a.tina.user
            user.first_name = "Christina"
            user.save(update_fields=["first_name"])
        elif write == "assignment":
            Assignment.objects.create(client=bob, trainer=crm_a.tina, is_primary=True)
    after_owner = owner.get(URL).json()
    assert after_owner != before_owner
    rows = {row["id"]: row for row in after_owner["results"]}
    if write == "delete":
        assert bob.pk not in rows
    elif write == "trainer renamed":
        ann = rows[crm_a.ann.pk]
        assert [t["name"] for t in ann["trainers"]] == ["Christina Trainer"]
    elif write == "assignment":
        # Tina's own list gains Bob the moment he is assigned to her.
        assert "Bob Baker" not in before_tina
        assert "Bob Baker" in names(tina.get(URL))
    else:
        assert rows[bob.pk]["full_name"] == "Robert Baker"


def test_each_viewer_gets_their_own_page(api_as):
    owner = names(api_as("owner").get(URL))
    # A trainer sees only their clients, front desk sees no health notes: the same path gives
    # each of them their own page, however often the owner's was read first.
    assert names(api_as("tina").get(URL)) == ["Ann Able"]
    desk = api_as("desk").get(URL).json()["results"]
    assert {row["full_name"] for row in desk} == set(owner)
    assert all("health_notes" not in row for row in desk)
    manager = api_as("manager").get(URL).json()["results"]
    assert any(row.get("health_notes") for row in manager)
    assert names(api_as("cara").get(URL)) == ["Cara Cole"]


def test_gym_b_never_gets_gym_a_pages(api_as, crm_a, crm_b):
    a_page = api_as("owner").get(URL).json()
    b_page = api_as("owner", crm_b).get(URL).json()
    b_emails = {row["email"] for row in b_page["results"]}
    assert all(email.endswith("@bravo.example") for email in b_emails)
    assert all(row["email"].endswith("@alpha.example") for row in a_page["results"])
    # The owners may well share an id, each in their own schema: the pages still differ.
    assert b_page != a_page


def test_a_bad_filter_is_a_400_every_time(api_as):
    owner = api_as("owner")
    for _ in range(2):
        assert owner.get(URL, {"joined_after": "not a date"}).status_code == 400


def test_links_follow_the_scheme_asked_with(api_as):
    owner = api_as("owner")
    plain = owner.get(URL, {"page_size": 1}).json()
    secure = owner.get(URL, {"page_size": 1}, secure=True).json()
    assert plain["next"].startswith("http://")
    assert secure["next"].startswith("https://")
