"""The audit log is append-only in the database itself: a trigger refuses UPDATE, DELETE and
TRUNCATE, whatever the code (ORM, admin, raw SQL) tries.

Migrations run with the schema being migrated first on the search_path, so the unqualified
names below create one function and its triggers in each schema (public, the gym template and
every gym); new gyms get them from the template through apps/tenants/cloning.py.

Two updates stay possible, both of which only forget who acted, never rewrite what happened:
deleting a user sets `actor_id` to NULL (on_delete=SET_NULL), and erasure (apps.privacy) may
blank `actor_email` (or set it to the ERASED_ACTOR_EMAIL placeholder), `ip` and `user_agent`,
and empty `changes` (the values of an erased person's records); what happened, to which object
and when always stays.

DROP SCHEMA ... CASCADE (deleting a gym) fires no row triggers and still works. A superuser can
bypass the triggers with `SET session_replication_role = replica` (what a database restore or a
test flush would need); the app's database user should not be one.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (to_jsonb(NEW) - 'actor_id' - 'actor_email' - 'ip' - 'user_agent' - 'changes')
               = (to_jsonb(OLD) - 'actor_id' - 'actor_email' - 'ip' - 'user_agent' - 'changes')
           AND (NEW.changes = OLD.changes OR NEW.changes = '{}'::jsonb)
           AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
           AND (NEW.actor_email = OLD.actor_email OR NEW.actor_email IN ('', 'erased'))
           AND (NEW.ip IS NULL OR NEW.ip = OLD.ip)
           AND (NEW.user_agent = OLD.user_agent OR NEW.user_agent = '') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % on %.% refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$body$;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();

CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
