"""Fast schema cloning for new gyms.

django-tenants' generic clone function (pg-clone-schema) inspects every object one catalog query
at a time and then re-runs `migrate --fake`: about a second and a half per gym. Django schemas
hold tables, identity sequences, constraints and indexes, plus the few functions and triggers our
migrations add (the audit log's append-only guard), so one PL/pgSQL call can copy them with their
original names (later migrations drop and alter indexes by name) plus the template's rows (the
applied migrations and what data migrations wrote, like the exercise library), leaving nothing
for `migrate` to do.

Anything the fast path does not understand (serial sequences, views, types, aggregates,
functions whose code names the source schema, constraint or disabled triggers) makes it refuse,
and the caller falls back to django-tenants' full clone.
"""

from __future__ import annotations

from django.db import connection

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION public.fitnesscrm_clone_schema(src text, dst text) RETURNS void
LANGUAGE plpgsql
-- A SET clause confines the search_path changes below to this call.
SET search_path = public
AS $fn$
DECLARE
    r record;
    stmt text;
    statements text[];
    functions text[];
    src_prefix text;
    unsupported integer;
    cols text;
    has_rows boolean;
    copied text[] := '{}';
BEGIN
    SELECT count(*) INTO unsupported FROM (
        -- Serial columns (the catalog directly: information_schema grows slow with schemas).
        SELECT 1 FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = src AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
        UNION ALL
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = src AND c.relkind IN ('v', 'm', 'f', 'c')
        UNION ALL
        -- Domains, enums, ranges and base types (the row and array types of tables come with
        -- the tables).
        SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = src
           AND (t.typtype IN ('d', 'e', 'r', 'm') OR (t.typtype = 'b' AND t.typcategory <> 'A'))
        UNION ALL
        -- Functions are copied from their printed definition, which is only right when their
        -- code and settings do not name the source schema; aggregates cannot be printed.
        SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = src
           AND (p.prokind NOT IN ('f', 'p')
                OR position(src IN p.prosrc) > 0
                OR position(src IN coalesce(array_to_string(p.proconfig, ' '), '')) > 0
                OR EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e'))
        UNION ALL
        -- Plain, enabled triggers only: constraint triggers, triggers cloned onto partitions
        -- and disabled ones would not survive a round trip through pg_get_triggerdef.
        SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = src AND NOT t.tgisinternal
           AND (t.tgconstraint <> 0 OR t.tgparentid <> 0 OR t.tgenabled <> 'O')
    ) AS objects;
    IF unsupported > 0 THEN
        RAISE EXCEPTION 'fitnesscrm_clone_schema: % object(s) need the full clone', unsupported
            USING ERRCODE = 'feature_not_supported';
    END IF;

    EXECUTE format('CREATE SCHEMA %I', dst);
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = src AND c.relkind IN ('r', 'p') ORDER BY c.relname LOOP
        EXECUTE format(
            'CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING IDENTITY '
            'INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)',
            dst, r.relname, src, r.relname);
        -- The template's rows come too: what data migrations wrote (the exercise library,
        -- permissions, the applied migrations). Copied before constraints and indexes exist.
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', src, r.relname) INTO has_rows;
        IF has_rows THEN
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
              FROM pg_attribute a
             WHERE a.attrelid = format('%I.%I', src, r.relname)::regclass
               AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
            EXECUTE format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %I.%I',
                           dst, r.relname, cols, cols, src, r.relname);
            copied := copied || r.relname::text;
        END IF;
    END LOOP;

    -- Print every definition relative to src (its names come out unqualified, public's
    -- shared tables too), then run them with dst first on the path so they land in dst.
    PERFORM set_config('search_path', format('%I, public', src), true);
    -- Functions first: constraints, indexes and triggers may call them. pg_get_functiondef
    -- always qualifies the function's own name, so only that prefix is rewritten to dst; the
    -- types in its signature come out unqualified like everything else here.
    functions := '{}';
    FOR r IN SELECT p.oid, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = src ORDER BY p.oid LOOP
        stmt := pg_get_functiondef(r.oid);
        src_prefix := format('CREATE OR REPLACE %s %s.',
                             CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                             quote_ident(src));
        IF left(stmt, length(src_prefix)) <> src_prefix THEN
            RAISE EXCEPTION 'fitnesscrm_clone_schema: cannot rewrite function %', r.oid::regproc
                USING ERRCODE = 'feature_not_supported';
        END IF;
        functions := functions || (
            format('CREATE %s %I.',
                   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, dst)
            || substr(stmt, length(src_prefix) + 1));
    END LOOP;
    -- Primary keys, unique, check and exclusion constraints first, foreign keys last.
    SELECT coalesce(array_agg(def ORDER BY ord), '{}') INTO statements FROM (
        SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s',
                      dst, cl.relname, con.conname, pg_get_constraintdef(con.oid)) AS def,
               row_number() OVER (ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1
                   WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, cl.relname, con.conname) AS ord
          FROM pg_constraint con
          JOIN pg_class cl ON cl.oid = con.conrelid
          JOIN pg_namespace n ON n.oid = cl.relnamespace
         WHERE n.nspname = src
    ) AS constraint_statements;
    -- Indexes that no constraint owns.
    SELECT statements || coalesce(array_agg(
               replace(replace(pg_get_indexdef(i.indexrelid),
                   ' ON ONLY ' || quote_ident(src) || '.', ' ON ONLY ' || quote_ident(dst) || '.'),
                   ' ON ' || quote_ident(src) || '.', ' ON ' || quote_ident(dst) || '.')), '{}')
      INTO statements
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE n.nspname = src
       AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid);
    -- Triggers, pretty-printed: the table and function names come out unqualified when the
    -- search_path finds them, so they bind to dst's own.
    SELECT statements || coalesce(array_agg(pg_get_triggerdef(t.oid, true)
                                            ORDER BY c.relname, t.tgname), '{}')
      INTO statements
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = src AND NOT t.tgisinternal;

    PERFORM set_config('search_path', format('%I, public', dst), true);
    FOREACH stmt IN ARRAY functions || statements LOOP
        EXECUTE stmt;
    END LOOP;

    -- Identity sequences of the tables that got rows continue after the copied ids.
    FOR r IN SELECT c.relname, a.attname FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = dst AND a.attidentity <> '' AND c.relname = ANY (copied) LOOP
        EXECUTE format(
            'SELECT setval(pg_get_serial_sequence(%L, %L), '
            'COALESCE((SELECT max(%I) FROM %I.%I), 0) + 1, false)',
            quote_ident(dst) || '.' || quote_ident(r.relname), r.attname, r.attname,
            dst, r.relname);
    END LOOP;
END
$fn$;
"""


def clone_schema_fast(*, source: str, destination: str) -> None:
    """Copy `source`'s tables, rows, constraints and indexes into a new schema.

    Raises django.db.NotSupportedError when the source holds objects this does not copy.
    """
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        cursor.execute("SELECT public.fitnesscrm_clone_schema(%s, %s)", [source, destination])
