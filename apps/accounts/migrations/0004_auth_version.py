"""The `auth` data version: bumped by every write to users or sessions, so what a web process
remembers of a session or a signed-in user (apps/accounts/sessions.py, backends.py) is dropped
the moment a user is changed or deactivated, or a session changes or ends."""

from django.db import migrations

from apps.core.versions import AUTH, register_sql

FORWARDS, BACKWARDS = register_sql(AUTH, ("accounts_user", "django_session"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_unit_system"),
        ("core", "0001_data_versions"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
