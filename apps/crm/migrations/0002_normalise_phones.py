"""Phone numbers stored before they were validated, rewritten in E.164 like new ones
(apps.crm.phones). A number that does not parse is left as it was: it is shown and searched
as typed, and the next edit of that client asks for a valid one."""

from django.db import migrations
from django.db.models import Q

PHONE_FIELDS = {"Client": ("phone", "emergency_contact_phone"), "Lead": ("phone",)}


def normalise(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    from apps.crm.phones import normalise_phone

    for model_name, fields in PHONE_FIELDS.items():
        model = apps.get_model("crm", model_name)
        query = Q()
        for name in fields:
            query |= ~Q(**{name: ""})
        changed = []
        for row in model.objects.filter(query).only("pk", *fields).iterator(chunk_size=2000):
            dirty = False
            for name in fields:
                value = getattr(row, name)
                if not value:
                    continue
                try:
                    normalised = normalise_phone(value)
                except ValidationError:
                    continue
                if normalised != value:
                    setattr(row, name, normalised)
                    dirty = True
            if dirty:
                changed.append(row)
        model.objects.bulk_update(changed, fields, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
