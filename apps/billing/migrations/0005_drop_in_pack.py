"""The drop-in becomes a pack (`Pack.is_drop_in`) that the billing settings keep in step with
the drop-in price, valid `drop_in_valid_days`. A gym that set a drop-in price before gets its
pack here, in its currency, not yet at Stripe: saving the billing settings again pushes it once
the gym takes cards (billing.services._drop_in_keep_in_step)."""

import django.core.validators
from django.db import migrations, models


def drop_in_packs_for_existing_prices(apps, schema_editor):  # type: ignore[no-untyped-def]
    BillingSettings = apps.get_model("billing", "BillingSettings")
    Pack = apps.get_model("billing", "Pack")
    settings_row = BillingSettings.objects.exclude(drop_in_price=None).first()
    if settings_row is None or Pack.objects.filter(is_drop_in=True).exists():
        return
    # The gym's row is in public (a shared app this app's migrations cannot depend on).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency FROM public.tenants_gym WHERE schema_name = current_schema()"
        )
        row = cursor.fetchone()
    Pack.objects.create(
        name="Drop-in",
        kind="class",
        credits=1,
        price=settings_row.drop_in_price,
        currency=row[0] if row else "EUR",
        expiry_days=settings_row.drop_in_valid_days,
        is_drop_in=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_payment_card"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingsettings",
            name="drop_in_valid_days",
            field=models.PositiveSmallIntegerField(
                default=30,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="drop-in valid for (days)",
            ),
        ),
        migrations.AddField(
            model_name="pack",
            name="is_drop_in",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(drop_in_packs_for_existing_prices, migrations.RunPython.noop),
    ]
