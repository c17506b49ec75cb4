import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_birth_dates_and_repeat_leads")]

    operations = [
        # In public, as apps/training/migrations/0003_exercise_search.py explains.
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public", migrations.RunSQL.noop
        ),
        migrations.AddIndex(
            model_name="client",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Concat(
                        models.F("first_name"),
                        models.Value("\n"),
                        models.F("last_name"),
                        models.Value("\n"),
                        models.F("email"),
                        models.Value("\n"),
                        models.F("phone"),
                        output_field=models.CharField(),
                    ),
                    name="gin_trgm_ops",
                ),
                name="crm_client_search_trgm",
            ),
        ),
        migrations.AddIndex(
            model_name="client",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    models.Func(
                        models.F("phone"),
                        models.Value("\\D"),
                        models.Value(""),
                        models.Value("g"),
                        function="regexp_replace",
                        output_field=models.CharField(),
                    ),
                    name="gin_trgm_ops",
                ),
                name="crm_client_phone_digits_trgm",
            ),
        ),
    ]
