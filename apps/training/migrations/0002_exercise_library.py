from django.db import migrations


def load_library(apps, schema_editor):
    from apps.training.library import LIBRARY_FILE, library_sync

    if LIBRARY_FILE.exists():
        library_sync(exercise_model=apps.get_model("training", "Exercise"))


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(load_library, migrations.RunPython.noop)]
