"""The client list's version moves to core's table of data versions (apps/core/versions.py),
beside the `auth` version, so one query reads both."""

from importlib import import_module

from django.db import migrations

from apps.core.versions import CRM_LIST, register_sql

TABLES = ("crm_client", "crm_trainer", "crm_assignment", "accounts_user")

FORWARDS, BACKWARDS = register_sql(CRM_LIST, TABLES)

DROP_OLD = "".join(
    f"DROP TRIGGER IF EXISTS {table}_list_version ON {table};" for table in TABLES
) + ("DROP FUNCTION IF EXISTS crm_bump_list_version(); DROP TABLE IF EXISTS crm_listversion;")

RESTORE_OLD = import_module("apps.crm.migrations.0003_list_version").CREATE


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_list_version"),
        ("core", "0001_data_versions"),
    ]

    # Backwards puts crm 0003's own table, function and triggers back.
    operations = [migrations.RunSQL(DROP_OLD + FORWARDS, BACKWARDS + RESTORE_OLD)]
