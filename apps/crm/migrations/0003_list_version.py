"""A version number for what the client list shows, kept by the database itself.

Every statement that writes clients, trainers, assignments or users (through the ORM, a bulk
update, an import or raw SQL alike) bumps it in its own transaction, so a reader that sees the
version also sees the writes behind it. crm 0004 moves it to core's table of data versions.

The number is a sum over 16 rows: a transaction bumps the row its transaction id picks, so
writers in different transactions seldom wait on each other and never deadlock over it.
"""

from django.db import migrations

TABLES = ("crm_client", "crm_trainer", "crm_assignment", "accounts_user")

CREATE = """
CREATE TABLE crm_listversion (
    slot smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO crm_listversion (slot) SELECT generate_series(0, 15);
CREATE FUNCTION crm_bump_list_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE %I.crm_listversion SET version = version + 1 WHERE slot = $1',
        TG_TABLE_SCHEMA
    ) USING (txid_current() % 16)::smallint;
    RETURN NULL;
END
$$;
""" + "".join(
    f"""
CREATE TRIGGER {table}_list_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION crm_bump_list_version();
"""
    for table in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_list_version ON {table};" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS crm_bump_list_version(); DROP TABLE IF EXISTS crm_listversion;"
)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_normalise_phones"),
        ("accounts", "0003_user_unit_system"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
