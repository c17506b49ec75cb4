from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models


def fill_search_text(apps, schema_editor):
    from apps.training.models import exercise_search_text

    exercise = apps.get_model("training", "Exercise")
    rows = list(exercise.objects.only("pk", "name", "aliases"))
    for row in rows:
        row.search_text = exercise_search_text(row.name, row.aliases)
    exercise.objects.bulk_update(rows, ["search_text"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("training", "0002_exercise_library")]

    operations = [
        # In public, where every gym's search_path finds it (an extension is per database; made
        # in the first gym's schema, the others would not see its operator classes).
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public", migrations.RunSQL.noop
        ),
        migrations.AddField(
            model_name="exercise",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="exercise",
            index=GinIndex(
                fields=["search_text"], name="exercise_search_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
