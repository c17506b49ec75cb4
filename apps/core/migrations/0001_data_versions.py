"""A table of data versions and the trigger function that bumped them. Nothing reads them:
core 0002 drops them, after the migrations that registered versions (accounts 0004, crm 0004)."""

from django.db import migrations

CREATE_SQL = """
CREATE TABLE core_dataversion (
    name varchar(40) NOT NULL,
    slot smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    version bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name, slot)
);
CREATE FUNCTION core_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE %I.core_dataversion SET version = version + 1 WHERE name = $1 AND slot = $2',
        TG_TABLE_SCHEMA
    ) USING TG_ARGV[0], (txid_current() % 16)::smallint;
    RETURN NULL;
END
$$;
"""
DROP_SQL = "DROP FUNCTION IF EXISTS core_bump_version(); DROP TABLE IF EXISTS core_dataversion;"


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunSQL(CREATE_SQL, DROP_SQL)]
