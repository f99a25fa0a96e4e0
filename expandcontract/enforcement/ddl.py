"""What the server-side guard is made of: the approvals table and its functions, the event
trigger functions, and the event triggers that run them (all SQL text, installed by
:mod:`~expandcontract.enforcement.install`)."""

from __future__ import annotations

from expandcontract.config import LEDGER_SCHEMA
from expandcontract.ledger import revoke_others

APPROVALS = f"{LEDGER_SCHEMA}.approvals"
TRIGGER_NAMES = (
    "expandcontract_guard_drop",
    "expandcontract_guard_start",
    "expandcontract_guard_end",
)

_SYSTEM = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
)

_APPROVALS_TABLE = f"""CREATE TABLE IF NOT EXISTS {APPROVALS} (
    pid integer NOT NULL,
    backend_start timestamptz NOT NULL,
    statement_md5 text,
    revision text,
    reason text,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT session_user
)"""

APPROVAL_FUNCTIONS = [
    # The approval of this session: pid plus start time, so a reused pid inherits nothing.
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.approved() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT EXISTS (
        SELECT 1 FROM {APPROVALS} a, pg_stat_activity s
         WHERE s.pid = pg_backend_pid() AND a.pid = s.pid AND a.backend_start = s.backend_start
           AND (a.statement_md5 IS NULL OR a.statement_md5 = md5(current_query())))
$fn$""",
    f"REVOKE ALL ON FUNCTION {LEDGER_SCHEMA}.approved() FROM PUBLIC",
    # Break glass, for the migration owner only: approve this psql session, on the record.
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.approve_session(reason text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF coalesce(btrim(reason), '') = '' THEN
        RAISE EXCEPTION 'expandcontract: an approval needs a reason';
    END IF;
    INSERT INTO {APPROVALS} (pid, backend_start, reason)
    SELECT pid, backend_start, reason FROM pg_stat_activity WHERE pid = pg_backend_pid();
    INSERT INTO {LEDGER_SCHEMA}.expandcontract_ledger (event, actor, details)
    VALUES ('contract_forced', 'approve_session',
            jsonb_build_object('reason', reason, 'route', 'expandcontract.approve_session'));
END
$fn$""",
    f"REVOKE ALL ON FUNCTION {LEDGER_SCHEMA}.approve_session(text) FROM PUBLIC",
]
_APPROVALS_STATEMENTS = [_APPROVALS_TABLE, *APPROVAL_FUNCTIONS]

# One statement that does nothing once the approvals exist: DDL on the ledger schema is itself
# refused by the event trigger, so a script re-run must not touch it.
APPROVALS_DDL = [
    "DO $approvals$ DECLARE grantee text; BEGIN\n"
    f"IF to_regclass('{APPROVALS}') IS NULL THEN\n"
    + ";\n".join(_APPROVALS_STATEMENTS)
    + f";\n{revoke_others(APPROVALS)}\nEND IF;\nEND $approvals$"
]

TRIGGER_FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.guard_snapshot() RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce(jsonb_object_agg(c.oid::text, jsonb_build_object(
        'name', n.nspname || '.' || c.relname,
        'columns', (SELECT coalesce(jsonb_object_agg(a.attnum::text, jsonb_build_array(
                        a.attname, a.atttypid, a.atttypmod, a.attisdropped, a.attnotnull)), '{{}}')
                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),
        'triggers', (SELECT coalesce(jsonb_object_agg(t.tgname, t.tgenabled), '{{}}')
                       FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal))), '{{}}')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SYSTEM}
$fn$""",
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.guard_refuse(what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'expandcontract: % refused: destructive DDL needs the contract guard''s approval', what
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'apply it through a migration run with the expandcontract hook (alembic or expandcontract upgrade); break glass: SELECT {LEDGER_SCHEMA}.approve_session(''reason'') as the migration owner';
END
$fn$""",
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.guard_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    obj record;
BEGIN
    IF {LEDGER_SCHEMA}.approved() THEN
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        CONTINUE WHEN obj.is_temporary
            OR obj.schema_name IN ('pg_catalog', 'information_schema')
            OR obj.schema_name LIKE 'pg\\_toast%' OR obj.schema_name LIKE 'pg\\_temp%'
            -- default privileges, user mappings...: nothing a release reads by name
            OR (obj.schema_name IS NULL AND obj.object_type NOT IN ('schema', 'extension'));
        PERFORM {LEDGER_SCHEMA}.guard_refuse(
            format('%s %s (%s)', tg_tag, obj.object_identity, obj.object_type));
    END LOOP;
END
$fn$""",
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.guard_start() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF {LEDGER_SCHEMA}.approved() THEN
        RETURN;
    END IF;
    IF tg_tag IN ('CREATE RULE', 'DROP OWNED') THEN
        PERFORM {LEDGER_SCHEMA}.guard_refuse(tg_tag);
    END IF;
    -- Dropping the guard's own schema or functions would drop the event trigger before its
    -- sql_drop half could object: refuse such drops up front.
    IF tg_tag LIKE 'DROP %' AND position('{LEDGER_SCHEMA}' in lower(current_query())) > 0 THEN
        PERFORM {LEDGER_SCHEMA}.guard_refuse(tg_tag || ' naming {LEDGER_SCHEMA}');
    END IF;
    IF tg_tag = 'ALTER TABLE' THEN
        PERFORM set_config('expandcontract.before', {LEDGER_SCHEMA}.guard_snapshot()::text, true);
    END IF;
END
$fn$""",
    # PL/pgSQL source with comments, strings and quoted identifiers blanked, lower-cased: what
    # guard_row_trigger reads (a RETURN inside a string or a comment is not a RETURN).
    r"""CREATE OR REPLACE FUNCTION @S@.guard_code(src text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    result text := '';
    i integer := 1;
    n integer := length(src);
    c text;
    tag text;
    stop integer;
    depth integer;
    escaped boolean;
BEGIN
    WHILE i <= n LOOP
        c := substr(src, i, 1);
        IF substr(src, i, 2) = '--' THEN
            stop := strpos(substr(src, i), E'\n');
            EXIT WHEN stop = 0;
            i := i + stop - 1;
            CONTINUE;
        ELSIF substr(src, i, 2) = '/*' THEN
            depth := 1;
            i := i + 2;
            WHILE i <= n AND depth > 0 LOOP
                IF substr(src, i, 2) = '/*' THEN depth := depth + 1; i := i + 2;
                ELSIF substr(src, i, 2) = '*/' THEN depth := depth - 1; i := i + 2;
                ELSE i := i + 1;
                END IF;
            END LOOP;
            result := result || ' ';
            CONTINUE;
        ELSIF c = '''' THEN
            escaped := i > 1 AND lower(substr(src, i - 1, 1)) = 'e'
                       AND (i = 2 OR substr(src, i - 2, 1) !~ '\w');
            i := i + 1;
            WHILE i <= n LOOP
                c := substr(src, i, 1);
                IF escaped AND c = '\' THEN i := i + 2;
                ELSIF c = '''' AND substr(src, i + 1, 1) = '''' THEN i := i + 2;
                ELSIF c = '''' THEN i := i + 1; EXIT;
                ELSE i := i + 1;
                END IF;
            END LOOP;
            result := result || '''?''';
            CONTINUE;
        ELSIF c = '"' THEN
            stop := strpos(substr(src, i + 1), '"');
            IF stop = 0 THEN RETURN result || ' "?"'; END IF;
            tag := substr(src, i + 1, stop - 1);
            result := result || CASE WHEN tag IN ('new', 'old') THEN tag ELSE '"?"' END;
            i := i + stop + 1;
            CONTINUE;
        ELSIF c = '$' AND substr(src, i) ~ '^\$([A-Za-z_][A-Za-z_0-9]*)?\$' THEN
            tag := substring(substr(src, i) from '^(\$[A-Za-z_0-9]*\$)');
            stop := strpos(substr(src, i + length(tag)), tag);
            IF stop = 0 THEN RETURN result || ' ''?'''; END IF;
            i := i + length(tag) + stop - 1 + length(tag);
            result := result || '''?''';
            CONTINUE;
        END IF;
        result := result || lower(c);
        i := i + 1;
    END LOOP;
    RETURN result;
END
$fn$""".replace("@S@", LEDGER_SCHEMA),
    # Why a row trigger that runs BEFORE (or INSTEAD OF) the write can make it vanish, or NULL:
    # safe only if its function is PL/pgSQL, every RETURN gives back the row (NEW; OLD for a
    # trigger on DELETE only; either for one on both) and nothing replaces NEW or OLD whole.
    # Coarser than policing's check (expandcontract.sql.triggers, which follows TG_OP).
    r"""CREATE OR REPLACE FUNCTION @S@.guard_row_trigger(fn oid, tgtype integer) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    lang text;
    code text;
    returned text;
    allowed text[];
BEGIN
    IF tgtype & 1 = 0 OR tgtype & (2 | 64) = 0 THEN
        RETURN NULL;  -- a statement trigger, or an AFTER trigger: the write happens anyway
    END IF;
    SELECT l.lanname, p.prosrc INTO lang, code
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = fn;
    IF lang IS DISTINCT FROM 'plpgsql' THEN
        RETURN format('its function is written in %s, not PL/pgSQL',
                      coalesce(lang, 'an unknown language'));
    END IF;
    code := @S@.guard_code(code);
    allowed := CASE WHEN tgtype & 8 = 0 THEN ARRAY['new']
                    WHEN tgtype & (4 | 16) = 0 THEN ARRAY['old']
                    ELSE ARRAY['new', 'old'] END;
    FOR returned IN
        SELECT btrim(m[1], E' \t\r\n()')
          FROM regexp_matches(code, '(?<![.\w])return(?!\s*next\M|\s*query\M)\s*([^;]*);', 'g') AS m
    LOOP
        IF returned <> ALL (allowed) THEN
            RETURN format('it can return %s', coalesce(nullif(returned, ''), 'nothing'));
        END IF;
    END LOOP;
    IF code ~ '(^|;|\mbegin|\mthen|\melse|\mloop)\s*(new|old)\s*:?='
       OR code ~ '\minto\s+(strict\s+)?(new|old)\M(?!\s*\.)'
       OR code ~ '\mfor\s+(new|old)\s+in\M' THEN
        RETURN 'it replaces the whole NEW or OLD row';
    END IF;
    RETURN NULL;
END
$fn$""".replace("@S@", LEDGER_SCHEMA),
    f"""CREATE OR REPLACE FUNCTION {LEDGER_SCHEMA}.guard_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cmd record;
    before jsonb;
    after jsonb;
    old jsonb;
    new jsonb;
    att text;
    trig text;
    row_trigger record;
BEGIN
    IF {LEDGER_SCHEMA}.approved() THEN
        RETURN;
    END IF;
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        IF cmd.schema_name = '{LEDGER_SCHEMA}' THEN
            PERFORM {LEDGER_SCHEMA}.guard_refuse(format('%s on %s', cmd.command_tag, cmd.object_identity));
        END IF;
        -- A row trigger that can return NULL makes the running release's writes vanish:
        -- creating one, or replacing the function one runs.
        CONTINUE WHEN cmd.object_type NOT IN ('trigger', 'function');
        FOR row_trigger IN
            SELECT t.tgname, t.tgrelid::regclass::text AS tbl,
                   {LEDGER_SCHEMA}.guard_row_trigger(t.tgfoid, t.tgtype) AS why
              FROM pg_trigger t
             WHERE NOT t.tgisinternal
               AND CASE cmd.object_type WHEN 'trigger' THEN t.oid ELSE t.tgfoid END = cmd.objid
        LOOP
            IF row_trigger.why IS NOT NULL THEN
                PERFORM {LEDGER_SCHEMA}.guard_refuse(format(
                    'row trigger %s on %s (%s: the app''s writes can vanish)',
                    row_trigger.tgname, row_trigger.tbl, row_trigger.why));
            END IF;
        END LOOP;
    END LOOP;
    IF tg_tag <> 'ALTER TABLE' THEN
        RETURN;
    END IF;
    before := nullif(current_setting('expandcontract.before', true), '')::jsonb;
    after := {LEDGER_SCHEMA}.guard_snapshot();
    FOR cmd IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands() LOOP
        old := before -> cmd.objid::text;
        new := after -> cmd.objid::text;
        CONTINUE WHEN old IS NULL OR new IS NULL;
        IF old ->> 'name' <> new ->> 'name' THEN
            PERFORM {LEDGER_SCHEMA}.guard_refuse(format('moving %s to %s', old ->> 'name', new ->> 'name'));
        END IF;
        FOR att IN SELECT jsonb_object_keys(old -> 'columns') LOOP
            IF (old -> 'columns' -> att) -> 0 IS DISTINCT FROM (new -> 'columns' -> att) -> 0
               OR (old -> 'columns' -> att) -> 1 IS DISTINCT FROM (new -> 'columns' -> att) -> 1
               OR (old -> 'columns' -> att) -> 2 IS DISTINCT FROM (new -> 'columns' -> att) -> 2
               OR (old -> 'columns' -> att) -> 3 IS DISTINCT FROM (new -> 'columns' -> att) -> 3
               OR ((old -> 'columns' -> att) ->> 4 = 'false' AND (new -> 'columns' -> att) ->> 4 = 'true')
            THEN
                PERFORM {LEDGER_SCHEMA}.guard_refuse(format('changing column %s.%s',
                    old ->> 'name', (old -> 'columns' -> att) ->> 0));
            END IF;
        END LOOP;
        FOR trig IN SELECT jsonb_object_keys(old -> 'triggers') LOOP
            IF (new -> 'triggers' ->> trig) = 'D' AND (old -> 'triggers' ->> trig) <> 'D' THEN
                PERFORM {LEDGER_SCHEMA}.guard_refuse(format('disabling trigger %s on %s', trig, old ->> 'name'));
            END IF;
        END LOOP;
    END LOOP;
END
$fn$""",
]


EVENTS = {
    "expandcontract_guard_drop": ("sql_drop", "guard_drop"),
    "expandcontract_guard_start": ("ddl_command_start", "guard_start"),
    "expandcontract_guard_end": ("ddl_command_end", "guard_end"),
}


def event_triggers(replace: bool = False) -> list[str]:
    """Create each event trigger that is missing (``replace``: drop and re-create them all, so
    each one is enabled and runs the right function)."""
    statements = []
    for name, (event, function) in EVENTS.items():
        create = (
            f"CREATE EVENT TRIGGER {name} ON {event} EXECUTE FUNCTION {LEDGER_SCHEMA}.{function}()"
        )
        if replace:
            statements += [f"DROP EVENT TRIGGER IF EXISTS {name}", create]
            continue
        statements.append(
            f"""DO $et$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '{name}') THEN
        {create};
    END IF;
END $et$"""
        )
    return statements


def enforcement_ddl() -> list[str]:
    """Every statement that installs the approvals and the event trigger (idempotent)."""
    return [*APPROVALS_DDL, *TRIGGER_FUNCTIONS, *event_triggers()]
