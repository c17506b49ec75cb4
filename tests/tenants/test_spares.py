"""Spare schemas: cloned ahead of time so sign-up renames one instead of cloning."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists

from apps.tenants.management.commands.migrate import schemas_with_pending_migrations
from apps.tenants.models import Gym, SpareSchema
from apps.tenants.services import gym_create, spare_schemas_refill
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def table_signature(schema: str) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute(
            "SELECT cl.relname, con.conname FROM pg_constraint con "
            "JOIN pg_class cl ON cl.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = %s",
            [schema],
        )
        return columns | set(cursor.fetchall())


def test_sign_up_takes_a_spare_schema_that_matches_the_template():
    assert spare_schemas_refill(target=2) == 2
    spares = list(SpareSchema.objects.values_list("name", flat=True))
    assert all(schema_exists(name) for name in spares)

    gym = gym_create(
        name="Spare Gym",
        subdomain="spare-gym",
        owner_email="o@spare.example",
        owner_password=PASSWORD,
    )
    # The oldest spare became the gym's schema.
    assert not schema_exists(spares[0])
    assert list(SpareSchema.objects.values_list("name", flat=True)) == spares[1:]
    assert table_signature(gym.schema_name) == table_signature(settings.TENANT_BASE_SCHEMA)
    assert schemas_with_pending_migrations([gym.schema_name]) == []

    client = Client(HTTP_HOST="spare-gym.localhost")
    assert login(client, "o@spare.example").status_code == 302
    assert client.get("/").status_code == 200


def test_a_spare_from_an_older_template_is_never_used():
    spare_schemas_refill(target=1)
    SpareSchema.objects.update(template_version="from-an-older-template")
    stale = SpareSchema.objects.get().name

    gym = gym_create(
        name="Fresh", subdomain="fresh-gym", owner_email="o@fresh.example", owner_password=PASSWORD
    )
    assert gym.schema_name == "fresh_gym"
    assert schema_exists(stale)  # not renamed: the gym was cloned from the template instead

    spare_schemas_refill(target=1)  # drops the stale one and clones a current one
    assert not schema_exists(stale)
    assert SpareSchema.objects.exclude(name=stale).count() == 1


def test_without_spares_sign_up_clones_the_template():
    assert not SpareSchema.objects.exists()
    gym = gym_create(
        name="No Pool", subdomain="no-pool", owner_email="o@nopool.example", owner_password=PASSWORD
    )
    assert schemas_with_pending_migrations([gym.schema_name]) == []


def test_spare_schema_names_cannot_be_taken_as_subdomains(public_client):
    spare_schemas_refill(target=1)
    response = public_client.post(
        "/api/v1/gyms/",
        {
            "name": "Sneaky",
            "subdomain": "gym-spare-abc",
            "owner_email": "o@sneaky.example",
            "owner_password": PASSWORD,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert Gym.objects.filter(subdomain="gym-spare-abc").count() == 0


def test_the_refill_task_tops_up_the_pool(settings):
    from apps.tenants.tasks import refill_spare_schemas

    settings.TENANT_SPARE_SCHEMAS = 2
    assert refill_spare_schemas() == 2
    assert refill_spare_schemas() == 0
    assert SpareSchema.objects.count() == 2
