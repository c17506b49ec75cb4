"""dj-stripe serves the platform's own Stripe account, so its tables belong in public only
(docs/architecture.md, "Footprint per gym"). Gym schemas made before it moved there still hold
about 560 of its empty relations; this drops them and forgets its migrations there. The app is
gym-schema only, so this never runs in public, and the guard says so again."""

from django.db import migrations

DROP_DJSTRIPE = r"""
DO $$
DECLARE
    name text;
BEGIN
    IF current_schema() = 'public' THEN
        RETURN;
    END IF;
    FOR name IN
        SELECT tablename FROM pg_tables
        WHERE schemaname = current_schema() AND tablename LIKE 'djstripe\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', current_schema(), name);
    END LOOP;
    DELETE FROM django_migrations WHERE app = 'djstripe';
END
$$;
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunSQL(DROP_DJSTRIPE, reverse_sql=migrations.RunSQL.noop)]
