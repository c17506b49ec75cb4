"""The `auth` data version: triggers on users and sessions that bump it. Nothing reads it:
core 0002 drops the triggers."""

from django.db import migrations

TABLES = ("accounts_user", "django_session")

FORWARDS = "INSERT INTO core_dataversion (name, slot) SELECT 'auth', generate_series(0, 15);" + (
    "".join(
        f"CREATE TRIGGER {table}_auth_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION core_bump_version('auth');"
        for table in TABLES
    )
)
BACKWARDS = "".join(
    f"DROP TRIGGER IF EXISTS {table}_auth_version ON {table};" for table in TABLES
) + ("DELETE FROM core_dataversion WHERE name = 'auth';")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_unit_system"),
        ("core", "0001_data_versions"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
