"""The long lists' tools: server-side sorting by whitelisted columns (clients, leads, the audit
log), the client list's bulk actions (roles, confirmation, gym isolation) and the birth-date
rule at the model."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.crm.models import Assignment, Client
from apps.tenants.selectors import gym_today
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym


def as_user(crm: CrmGym, role: str) -> GymClient:
    browser = GymClient(crm.gym.subdomain)
    browser.force_login(crm.user(role))
    return browser


def names_in_order(body: str, names: list[str]) -> list[str]:
    return sorted(names, key=body.index)


class TestSorting:
    def test_clients_sort_by_a_whitelisted_column_both_ways(self, crm_a: CrmGym) -> None:
        owner = as_user(crm_a, "owner")
        names = ["Ann Able", "Bob Baker", "Cara Cole"]
        body = owner.get("/clients/", {"sort": "-name"}).content.decode()
        assert names_in_order(body, names) == ["Cara Cole", "Bob Baker", "Ann Able"]
        assert 'aria-sort="descending"' in body
        body = owner.get("/clients/", {"sort": "name"}).content.decode()
        assert names_in_order(body, names) == names

    @pytest.mark.parametrize("sort", ["health_notes", "-password", "user__password", "x;drop"])
    def test_an_unknown_sort_is_ignored(self, crm_a: CrmGym, sort: str) -> None:
        response = as_user(crm_a, "owner").get("/clients/", {"sort": sort})
        assert response.status_code == 200
        body = response.content.decode()
        assert names_in_order(body, ["Cara Cole", "Ann Able"]) == ["Ann Able", "Cara Cole"]
        assert "aria-sort" not in body

    def test_the_sort_links_keep_the_filters(self, crm_a: CrmGym) -> None:
        body = as_user(crm_a, "owner").get("/clients/", {"status": "active", "sort": "name"})
        assert "?sort=-name&amp;status=active" in body.content.decode()

    def test_leads_sort_by_received(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            services.lead_capture(first_name="Zed", last_name="Zulu", email="zed@example.com")
        owner = as_user(crm_a, "owner")
        body = owner.get("/leads/", {"status": "all", "sort": "received"}).content.decode()
        assert body.index("Lee Prospect") < body.index("Zed Zulu")
        body = owner.get("/leads/", {"status": "all", "sort": "-received"}).content.decode()
        assert body.index("Zed Zulu") < body.index("Lee Prospect")

    def test_the_audit_log_sorts_by_action_and_ignores_the_rest(self, crm_a: CrmGym) -> None:
        owner = as_user(crm_a, "owner")
        response = owner.get("/audit/", {"sort": "action"})
        assert response.status_code == 200
        actions = [event.action for event in response.context["page"].object_list]  # type: ignore[index]
        assert actions == sorted(actions)
        assert owner.get("/audit/", {"sort": "ip;--"}).status_code == 200


BULK = "/clients/bulk/"


class TestBulkActions:
    @pytest.mark.parametrize("role", ["desk", "tina"])
    def test_only_management_may_use_them(self, crm_a: CrmGym, role: str) -> None:
        response = as_user(crm_a, role).post(
            BULK, {"action": "status", "status": "paused", "ids": [crm_a.ann.pk], "confirm": "1"}
        )
        assert response.status_code == 403
        with tenant_context(crm_a.gym):
            assert Client.objects.get(pk=crm_a.ann.pk).status != "paused"

    def test_the_list_offers_them_to_the_owner_only(self, crm_a: CrmGym) -> None:
        assert (
            'data-testid="client-bulk"' in as_user(crm_a, "owner").get("/clients/").content.decode()
        )
        assert (
            'data-testid="client-bulk"'
            not in as_user(crm_a, "desk").get("/clients/").content.decode()
        )

    def test_a_status_change_asks_first_then_applies_with_a_message(self, crm_a: CrmGym) -> None:
        owner = as_user(crm_a, "owner")
        data = {"action": "status", "status": "paused", "ids": [crm_a.ann.pk, crm_a.bob.pk]}
        response = owner.post(BULK, data)
        assert response.status_code == 200
        assert "Set the status of 2 clients to Paused?" in response.content.decode()
        with tenant_context(crm_a.gym):
            assert not Client.objects.filter(status="paused").exists()
        response = owner.post(BULK, {**data, "confirm": "1"}, follow=True)
        assert "2 of 2 clients changed." in response.content.decode()
        with tenant_context(crm_a.gym):
            assert set(Client.objects.filter(status="paused").values_list("pk", flat=True)) == {
                crm_a.ann.pk,
                crm_a.bob.pk,
            }

    def test_add_a_tag_and_assign_a_trainer(self, crm_a: CrmGym) -> None:
        owner = as_user(crm_a, "owner")
        ids = [crm_a.ann.pk, crm_a.cara.pk]
        owner.post(BULK, {"action": "tag", "tag": "VIP ", "ids": ids, "confirm": "1"})
        owner.post(BULK, {"action": "assign", "trainer": crm_a.tom.pk, "ids": ids, "confirm": "1"})
        with tenant_context(crm_a.gym):
            for client in Client.objects.filter(pk__in=ids):
                assert "vip" in client.tags
                assert Assignment.objects.filter(
                    client=client, trainer=crm_a.tom, ends_on__isnull=True
                ).exists()

    def test_an_action_without_its_value_is_refused(self, crm_a: CrmGym) -> None:
        response = as_user(crm_a, "owner").post(
            BULK, {"action": "tag", "tag": "", "ids": [crm_a.ann.pk], "confirm": "1"}, follow=True
        )
        assert "Choose what to apply." in response.content.decode()

    def test_export_goes_to_the_csv_of_the_picked_clients(self, crm_a: CrmGym) -> None:
        response = as_user(crm_a, "owner").post(
            BULK, {"action": "export", "ids": [crm_a.ann.pk, crm_a.bob.pk]}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/clients/export.csv?ids={crm_a.ann.pk}%2C{crm_a.bob.pk}"

    def test_ids_from_another_gym_are_refused(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            # An id gym A has no client with.
            extra = [
                Client.objects.create(first_name="Bea", last_name=f"B{n}", status="active")
                for n in range(5)
            ][-1]
        with tenant_context(crm_a.gym):
            assert not Client.objects.filter(pk=extra.pk).exists()
        response = as_user(crm_a, "owner").post(
            BULK,
            {"action": "status", "status": "churned", "ids": [extra.pk], "confirm": "1"},
            follow=True,
        )
        assert "Select a valid choice" in response.content.decode()
        with tenant_context(crm_b.gym):
            assert Client.objects.get(pk=extra.pk).status == "active"


def test_the_client_list_query_count_stays_flat(crm_a: CrmGym) -> None:
    owner = as_user(crm_a, "owner")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner.get("/clients/", {"sort": "-joined"}).status_code == 200
        return len(queries)

    few = count()
    with tenant_context(crm_a.gym):
        for n in range(15):
            client = Client.objects.create(first_name="Many", last_name=f"M{n}", status="active")
            Assignment.objects.create(client=client, trainer=crm_a.tina, is_primary=True)
    assert count() == few


def test_the_model_refuses_a_birth_date_in_the_future(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        client = Client.objects.get(pk=crm_a.ann.pk)
        client.date_of_birth = gym_today() + datetime.timedelta(days=400)
        with pytest.raises(ValidationError) as excinfo:
            client.full_clean()
        assert "date_of_birth" in excinfo.value.message_dict


def test_the_birth_date_picker_stops_at_today(crm_a: CrmGym) -> None:
    body = as_user(crm_a, "owner").get("/clients/new/").content.decode()
    with tenant_context(crm_a.gym):
        today = gym_today().isoformat()
    assert f'max="{today}"' in body
    assert 'min="1900-01-01"' in body
