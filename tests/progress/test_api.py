"""The measurements API: values in the requesting user's units, stored metric; role rules;
date filters; gym isolation; constant query counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.progress import services
from apps.progress.models import BodyMeasurement
from tests.crm.conftest import CrmGym

MEASUREMENTS = "/api/v1/progress/measurements/"


def imperial(crm: CrmGym, role: str) -> None:
    user = crm.user(role)
    with tenant_context(crm.gym):
        type(user).objects.filter(pk=user.pk).update(unit_system="imperial")
    user.unit_system = "imperial"
    connection.set_schema_to_public()


def test_imperial_input_is_stored_metric_and_shown_in_each_users_units(crm_a: CrmGym, api_as):
    imperial(crm_a, "cara")
    response = api_as("cara").post(
        MEASUREMENTS,
        {"weight": "220.46", "waist": "30", "body_fat_percent": "21.5"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["units"] == {"mass": "lb", "length": "in"}
    assert body["weight"] == 220.46
    assert body["waist"] == 30.0
    assert body["body_fat_percent"] == 21.5
    assert body["client"] == crm_a.cara.pk

    with tenant_context(crm_a.gym):
        stored = BodyMeasurement.objects.get(pk=body["id"])
        assert stored.weight_kg == Decimal("99.999")
        assert stored.waist_cm == Decimal("76.20")
        assert stored.recorded_by_id == crm_a.cara_user.pk
    connection.set_schema_to_public()

    # Tom (metric) reads the same measurement in kg and cm.
    seen = api_as("tom").get(f"{MEASUREMENTS}{body['id']}/").json()
    assert seen["units"] == {"mass": "kg", "length": "cm"}
    assert seen["weight"] == 100.0
    assert seen["waist"] == 76.2


def test_changing_units_through_me(crm_a: CrmGym, api_as):
    api = api_as("cara")
    response = api.patch("/api/v1/me/", {"unit_system": "imperial"}, format="json")
    assert response.status_code == 200
    assert response.json()["unit_system"] == "imperial"
    assert api.patch("/api/v1/me/", {"unit_system": "cubits"}, format="json").status_code == 400


def test_ranges_are_checked_on_the_metric_value(crm_a: CrmGym, api_as):
    imperial(crm_a, "cara")
    # 900 lb is 408 kg: over the limit, reported on the field the request named.
    response = api_as("cara").post(MEASUREMENTS, {"weight": "900"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"weight"}
    response = api_as("cara").post(MEASUREMENTS, {}, format="json")
    assert response.status_code == 400


def test_staff_name_the_client_and_only_one_they_follow(crm_a: CrmGym, api_as):
    tina = api_as("tina")
    assert tina.post(MEASUREMENTS, {"weight": "70"}, format="json").json()["errors"].keys() == {
        "client"
    }
    refused = tina.post(MEASUREMENTS, {"client": crm_a.cara.pk, "weight": "70"}, format="json")
    assert refused.status_code == 400
    assert "client" in refused.json()["errors"]
    made = tina.post(MEASUREMENTS, {"client": crm_a.ann.pk, "weight": "70"}, format="json")
    assert made.status_code == 201
    # A client cannot record for someone else.
    other = api_as("cara").post(
        MEASUREMENTS, {"client": crm_a.ann.pk, "weight": "70"}, format="json"
    )
    assert other.status_code == 400
    # Front desk sees no health data at all.
    assert api_as("desk").get(MEASUREMENTS).status_code == 403
    assert (
        api_as("desk")
        .post(MEASUREMENTS, {"client": crm_a.ann.pk, "weight": "70"}, format="json")
        .status_code
        == 403
    )


def test_lists_follow_the_roles(crm_a: CrmGym, api_as):
    with tenant_context(crm_a.gym):
        ann = services.measurement_create(actor=crm_a.owner, client=crm_a.ann, weight_kg=70)
        cara = services.measurement_create(actor=crm_a.owner, client=crm_a.cara, weight_kg=60)
        bob = services.measurement_create(actor=crm_a.owner, client=crm_a.bob, weight_kg=90)
    connection.set_schema_to_public()

    def ids(role: str, **params: object) -> set[int]:
        return {row["id"] for row in api_as(role).get(MEASUREMENTS, params).json()["results"]}

    assert ids("owner") == {ann.pk, cara.pk, bob.pk}
    assert ids("owner", client=crm_a.ann.pk) == {ann.pk}
    assert ids("tina") == {ann.pk}
    assert ids("tom") == {cara.pk}
    assert ids("cara") == {cara.pk}
    assert api_as("tina").get(f"{MEASUREMENTS}{cara.pk}/").status_code == 404
    assert api_as("tina").delete(f"{MEASUREMENTS}{cara.pk}/").status_code == 404
    assert api_as("cara").get(f"{MEASUREMENTS}{ann.pk}/").status_code == 404


def test_update_and_delete(crm_a: CrmGym, api_as):
    with tenant_context(crm_a.gym):
        by_tom = services.measurement_create(actor=crm_a.tom.user, client=crm_a.cara, weight_kg=60)
    connection.set_schema_to_public()
    cara = api_as("cara")
    assert (
        cara.patch(f"{MEASUREMENTS}{by_tom.pk}/", {"weight": "61"}, format="json").status_code
        == 403
    )
    assert cara.delete(f"{MEASUREMENTS}{by_tom.pk}/").status_code == 403
    tom = api_as("tom")
    changed = tom.patch(f"{MEASUREMENTS}{by_tom.pk}/", {"weight": "61.5"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["weight"] == 61.5
    assert tom.delete(f"{MEASUREMENTS}{by_tom.pk}/").status_code == 204
    with tenant_context(crm_a.gym):
        assert not BodyMeasurement.objects.exists()


def test_date_range_filter(crm_a: CrmGym, api_as):
    with tenant_context(crm_a.gym):
        for day in (1, 10, 20):
            services.measurement_create(
                actor=crm_a.owner,
                client=crm_a.ann,
                weight_kg=70 + day,
                measured_at=datetime(2026, 3, day, 8, 0, tzinfo=UTC),
            )
    connection.set_schema_to_public()
    rows = (
        api_as("owner")
        .get(MEASUREMENTS, {"measured_from": "2026-03-10", "measured_to": "2026-03-20"})
        .json()["results"]
    )
    assert [row["weight"] for row in rows] == [90.0, 80.0]  # newest first
    bad = api_as("owner").get(
        MEASUREMENTS, {"measured_from": "2026-03-20", "measured_to": "2026-03-10"}
    )
    assert bad.status_code == 400
    assert "measured_to" in bad.json()["errors"]
    assert api_as("owner").get(MEASUREMENTS, {"measured_from": "March"}).status_code == 400


def test_gym_b_cannot_see_or_change_gym_a_measurements(crm_a: CrmGym, crm_b: CrmGym, api_as):
    with tenant_context(crm_a.gym):
        measurement = services.measurement_create(actor=crm_a.owner, client=crm_a.ann, weight_kg=70)
    connection.set_schema_to_public()
    bravo = APIClient(HTTP_HOST=crm_b.host)
    bravo.force_authenticate(crm_b.owner)
    assert bravo.get(MEASUREMENTS).json()["results"] == []
    assert bravo.get(f"{MEASUREMENTS}{measurement.pk}/").status_code == 404
    assert bravo.delete(f"{MEASUREMENTS}{measurement.pk}/").status_code == 404
    # Whatever gym B writes lands in gym B: gym A still has its one measurement, unchanged.
    bravo.post(MEASUREMENTS, {"client": crm_a.ann.pk, "weight": "75"}, format="json")
    with tenant_context(crm_a.gym):
        assert BodyMeasurement.objects.get().weight_kg == 70


@pytest.mark.parametrize("role", ["owner", "tom", "cara"])
def test_measurement_list_has_a_constant_query_count(crm_a: CrmGym, api_as, role):
    with tenant_context(crm_a.gym):
        for day in range(1, 9):
            services.measurement_create(
                actor=crm_a.owner,
                client=crm_a.cara,
                weight_kg=60 + day,
                waist_cm=70,
                measured_at=datetime(2026, 2, day, 8, 0, tzinfo=UTC),
            )
    connection.set_schema_to_public()
    api = api_as(role)
    counts = []
    for size in (2, 8):
        with CaptureQueriesContext(db) as queries:
            response = api.get(MEASUREMENTS, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
