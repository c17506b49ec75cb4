"""The table of data versions and the trigger function that bumps them (apps/core/versions.py).
Apps register their own versions and triggers in their own migrations."""

from django.db import migrations

from apps.core.versions import CREATE_SQL, DROP_SQL


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunSQL(CREATE_SQL, DROP_SQL)]
