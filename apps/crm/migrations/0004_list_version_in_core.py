"""The client list's version moves to core's table of data versions: triggers on clients,
trainers, assignments and users that bump `crm_list`. Nothing reads it: core 0002 drops the
triggers."""

from importlib import import_module

from django.db import migrations

TABLES = ("crm_client", "crm_trainer", "crm_assignment", "accounts_user")

FORWARDS = (
    "INSERT INTO core_dataversion (name, slot) SELECT 'crm_list', generate_series(0, 15);"
    + "".join(
        f"CREATE TRIGGER {table}_crm_list_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION core_bump_version('crm_list');"
        for table in TABLES
    )
)
BACKWARDS = "".join(
    f"DROP TRIGGER IF EXISTS {table}_crm_list_version ON {table};" for table in TABLES
) + ("DELETE FROM core_dataversion WHERE name = 'crm_list';")

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
