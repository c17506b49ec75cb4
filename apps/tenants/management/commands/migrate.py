"""`migrate` for the whole platform: public, the template schema new gyms are cloned from, then
every gym that has something to apply (in parallel when there are several)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor
from django_tenants.utils import get_public_schema_name, schema_exists

from apps.tenants.selectors import gym_list
from apps.tenants.services import spare_schemas_refill


def tenant_migrations() -> set[tuple[str, str]]:
    """Every migration a gym schema should have applied."""
    loader = MigrationLoader(connection, ignore_no_migrations=True, load=True)
    tenant_labels = {
        config.label
        for config in django_apps.get_app_configs()
        if config.name in settings.TENANT_APPS
    }
    return {key for key in loader.disk_migrations if key[0] in tenant_labels}


def schemas_with_pending_migrations(schemas: list[str]) -> list[str]:
    expected = tenant_migrations()
    pending = []
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name = 'django_migrations')",
                [schema],
            )
            if not cursor.fetchone()[0]:
                pending.append(schema)
                continue
            cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
            applied = set(cursor.fetchall())
            if expected - applied:
                pending.append(schema)
    return pending


class Command(MigrateSchemasCommand):
    help = (
        "Migrate public, the gym template schema and every gym with pending migrations "
        "(in parallel). With --schema/--shared/--tenant it behaves like migrate_schemas."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        targeted = options.get("schema_name") or options.get("shared") or options.get("tenant")
        if targeted or options.get("app_label"):
            super().handle(*args, **options)
            return

        verbosity = int(options.get("verbosity", 1))
        public = get_public_schema_name()
        template = settings.TENANT_BASE_SCHEMA

        super().handle(*args, **{**options, "shared": True, "tenant": False})

        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{template}"')
        if schemas_with_pending_migrations([template]):
            super().handle(*args, **{**options, "schema_name": template, "shared": False})

        connection.set_schema_to_public()
        created = spare_schemas_refill()
        if verbosity >= 1 and created:
            self.stdout.write(f"{created} spare gym schema(s) cloned for fast sign-up.")
        all_gyms = list(gym_list().values_list("schema_name", flat=True))
        pending = [s for s in schemas_with_pending_migrations(all_gyms) if s != public]
        if verbosity >= 1:
            self.stdout.write(
                f"{len(all_gyms)} gym(s); {len(pending)} with migrations to apply, "
                f"{len(all_gyms) - len(pending)} up to date."
            )
        if not pending:
            return
        codename = options.get("executor") or (
            "multiprocessing" if len(pending) > 1 else "standard"
        )
        executor = get_executor(codename=codename)(args, {**options, "tenant": True})
        executor.run_migrations(tenants=pending)
