"""Every relation in a gym schema is repeated once per gym: cloning, `migrate`, backups and
PostgreSQL's catalog pay for it (docs/architecture.md, "Footprint per gym"). This holds the
count under a budget so no app brings dj-stripe's hundreds of empty relations back unnoticed."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.db import connection

# An empty gym has 480 today: 381 before communication (notifications 27, messaging 12,
# campaigns 10, automations 14) and wearables (36) joined. Raise it only with a reason: each
# relation costs every gym.
RELATIONS_PER_GYM_BUDGET = 500

drop_djstripe = importlib.import_module(
    "apps.billing.migrations.0001_drop_djstripe_from_gym_schemas"
)


def relations(schema: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind, count(*) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "GROUP BY c.relkind",
            [schema],
        )
        return dict(cursor.fetchall())


def djstripe_tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
            [schema, "djstripe\\_%"],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
class TestFootprint:
    def test_a_gym_schema_stays_under_the_relation_budget(self, gym_a):
        for schema in (gym_a.schema_name, settings.TENANT_BASE_SCHEMA):
            counts = relations(schema)
            assert sum(counts.values()) <= RELATIONS_PER_GYM_BUDGET, (schema, counts)

    def test_dj_stripe_lives_in_public_only(self, gym_a):
        assert djstripe_tables("public")
        assert djstripe_tables(gym_a.schema_name) == []
        assert djstripe_tables(settings.TENANT_BASE_SCHEMA) == []


@pytest.mark.django_db
class TestDroppingDjStripeFromGymSchemas:
    """The migration that takes dj-stripe out of gyms made before it moved to public."""

    SCHEMA = "footprint_old_gym"

    @pytest.fixture
    def old_gym_schema(self):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{self.SCHEMA}"')
            cursor.execute(
                f'CREATE TABLE "{self.SCHEMA}".django_migrations '
                "(id serial PRIMARY KEY, app text, name text, applied timestamptz)"
            )
            cursor.execute(
                f'INSERT INTO "{self.SCHEMA}".django_migrations (app, name, applied) VALUES '  # noqa: S608
                "('djstripe', '0001_initial', now()), ('crm', '0001_initial', now())"
            )
            cursor.execute(
                f'CREATE TABLE "{self.SCHEMA}".djstripe_customer (id bigserial PRIMARY KEY)'
            )
            cursor.execute(
                f'CREATE TABLE "{self.SCHEMA}".djstripe_charge (id bigserial PRIMARY KEY, '
                f'customer_id bigint REFERENCES "{self.SCHEMA}".djstripe_customer(id))'
            )
            cursor.execute(f'CREATE TABLE "{self.SCHEMA}".crm_client (id bigserial PRIMARY KEY)')
        yield self.SCHEMA
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{self.SCHEMA}" CASCADE')
            cursor.execute("SET search_path TO public")

    def test_drops_its_tables_and_migration_records_and_nothing_else(self, old_gym_schema):
        with connection.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{old_gym_schema}", public')
            cursor.execute(drop_djstripe.DROP_DJSTRIPE)
            cursor.execute(f'SELECT app FROM "{old_gym_schema}".django_migrations')  # noqa: S608
            apps_left = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET search_path TO public")
        assert djstripe_tables(old_gym_schema) == []
        assert apps_left == ["crm"]
        assert relations(old_gym_schema).get("r") == 2  # django_migrations and crm_client
        assert djstripe_tables("public"), "public's dj-stripe is the platform's: never dropped"

    def test_does_nothing_in_public(self):
        before = djstripe_tables("public")
        with connection.cursor() as cursor:
            cursor.execute("SET search_path TO public")
            cursor.execute(drop_djstripe.DROP_DJSTRIPE)
        assert djstripe_tables("public") == before
