"""Drop the data versions: their triggers (accounts 0004 on users and sessions, crm 0004 on
clients, trainers, assignments and users), core 0001's trigger function and table.

Runs in public and in every gym schema, as core 0001 and accounts 0004 did; crm's tables exist
only in gym schemas, and DROP TRIGGER IF EXISTS passes over a table that is not there.

Backwards makes core 0001's table and function again, empty and with no triggers, so that the
migrations before this one can be unapplied."""

from importlib import import_module

from django.db import migrations

TRIGGERS = (
    ("accounts_user", "auth"),
    ("django_session", "auth"),
    ("crm_client", "crm_list"),
    ("crm_trainer", "crm_list"),
    ("crm_assignment", "crm_list"),
    ("accounts_user", "crm_list"),
)

FORWARDS = "".join(
    f"DROP TRIGGER IF EXISTS {table}_{name}_version ON {table};" for table, name in TRIGGERS
) + ("DROP FUNCTION IF EXISTS core_bump_version(); DROP TABLE IF EXISTS core_dataversion;")

BACKWARDS = import_module("apps.core.migrations.0001_data_versions").CREATE_SQL


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_data_versions"),
        ("accounts", "0004_auth_version"),
        ("crm", "0004_list_version_in_core"),
    ]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
