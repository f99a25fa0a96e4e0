"""Server-side enforcement: the guard also lives in the database.

With the ledger, the hook installs a PostgreSQL event trigger that refuses destructive DDL
unless this session holds an *approval* only the guard writes (a row in
``expandcontract.approvals``, which nobody but the migration owner may write):

- ``sql_drop``: anything dropped outside the system schemas and temporary objects (tables,
  columns, schemas, types, defaults, constraints, triggers, functions, indexes, rules, and
  whatever a ``CASCADE`` takes with them);
- ``ALTER TABLE``: a renamed or moved table, a renamed column, a changed column type, a new
  NOT NULL, a disabled trigger (the catalog is compared before and after the command, so it
  works the same from psql, a DO block, a function or a raw cursor);
- ``CREATE RULE`` (a rule can make the app's writes vanish) and any DDL on the ledger schema;
- a row trigger that runs BEFORE (or INSTEAD OF) a write and can return NULL, created or with
  its function replaced (``guard_row_trigger``: the app's writes would vanish).

An approval is either for the whole session (the guard allowed a contract revision, or the
revision is legacy) or for one exact statement text (a reasoned exemption in expand/migrate,
or expandcontract's own housekeeping). It is keyed by the backend's pid and start time, so it
dies with the session. Creating an event trigger needs a superuser (``rds_superuser`` on RDS
and Aurora); without one the hook says so once and keeps the client-side guard.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.config import LEDGER_SCHEMA
from expandcontract.ledger import revoke_others, run_ddl
from expandcontract.sql.triggers import function_definition

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

_APPROVAL_FUNCTIONS = [
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
_APPROVALS_STATEMENTS = [_APPROVALS_TABLE, *_APPROVAL_FUNCTIONS]

# One statement that does nothing once the approvals exist: DDL on the ledger schema is itself
# refused by the event trigger, so a script re-run must not touch it.
APPROVALS_DDL = [
    "DO $approvals$ DECLARE grantee text; BEGIN\n"
    f"IF to_regclass('{APPROVALS}') IS NULL THEN\n"
    + ";\n".join(_APPROVALS_STATEMENTS)
    + f";\n{revoke_others(APPROVALS)}\nEND IF;\nEND $approvals$"
]

_TRIGGER_FUNCTIONS = [
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


_EVENTS = {
    "expandcontract_guard_drop": ("sql_drop", "guard_drop"),
    "expandcontract_guard_start": ("ddl_command_start", "guard_start"),
    "expandcontract_guard_end": ("ddl_command_end", "guard_end"),
}


def _event_triggers(replace: bool = False) -> list[str]:
    """Create each event trigger that is missing (``replace``: drop and re-create them all, so
    each one is enabled and runs the right function)."""
    statements = []
    for name, (event, function) in _EVENTS.items():
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
    return [*APPROVALS_DDL, *_TRIGGER_FUNCTIONS, *_event_triggers()]


# -- the installed version ---------------------------------------------------------------------
#
# The version of the server-side guard is a fingerprint of what it is made of: the source of
# each of its functions and which function each event trigger runs on which event. The
# expected version is computed from the DDL above, the installed one from the catalog with the
# same recipe, so an older install, a missing piece and a function body replaced by hand all
# read as "not the expected version", and the hook re-installs.


def _fingerprint(functions: dict[str, str], triggers: dict[str, list[str]]) -> str:
    payload = json.dumps({"functions": functions, "event_triggers": triggers}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


@functools.cache
def _expected_functions() -> dict[str, str]:
    bodies: dict[str, str] = {}
    for statement in [*_APPROVAL_FUNCTIONS, *_TRIGGER_FUNCTIONS]:
        definition = function_definition(statement)
        if definition is not None:
            bodies[definition.name.rsplit(".", 1)[-1]] = definition.source
    return bodies


def expected_version() -> str:
    """The version this library installs (a fingerprint of its DDL)."""
    triggers = {
        name: [event, f"{LEDGER_SCHEMA}.{function}"] for name, (event, function) in _EVENTS.items()
    }
    return _fingerprint(_expected_functions(), triggers)


_INSTALLED_FUNCTIONS = """
SELECT p.proname, p.prosrc FROM pg_proc p
 WHERE p.pronamespace = to_regnamespace(:schema) AND p.proname = ANY(:names)"""
_INSTALLED_TRIGGERS = """
SELECT e.evtname, e.evtevent, n.nspname || '.' || p.proname FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE e.evtname = ANY(:names)"""


def installed_version(connection: Connection) -> str | None:
    """The fingerprint of what is installed here, by the same recipe; None if nothing is."""
    functions = {
        name: source
        for name, source in connection.execute(
            sa.text(_INSTALLED_FUNCTIONS),
            {"schema": LEDGER_SCHEMA, "names": sorted(_expected_functions())},
        ).all()
    }
    triggers = {
        name: [event, function]
        for name, event, function in connection.execute(
            sa.text(_INSTALLED_TRIGGERS), {"names": list(TRIGGER_NAMES)}
        ).all()
    }
    if not functions and not triggers:
        return None
    return _fingerprint(functions, triggers)


@dataclass(frozen=True)
class Enforcement:
    """Whether the server-side guard is on in this database, and why not."""

    enabled: bool
    reason: str = ""
    installed: str | None = None  # the version installed here (None: nothing is)
    expected: str | None = None  # the version this library installs
    upgraded_from: str | None = None  # set by install() when it replaced an older version

    @property
    def current(self) -> bool:
        return self.installed == self.expected

    def describe(self) -> str:
        if not self.enabled:
            return f"off: {self.reason}"
        if self.current:
            return "on (event trigger)"
        return (
            f"on (event trigger), but version {self.installed} is installed and this library "
            f"expects {self.expected}: "
            + (self.reason or "the next migration run through the hook upgrades it")
        )


def enforcement_status(connection: Connection) -> Enforcement:
    """Is the event trigger installed and enabled here, and in which version? Read-only."""
    if connection.dialect.name != "postgresql":
        return Enforcement(False, f"{connection.dialect.name} has no event triggers")
    versions: dict[str, Any] = {
        "installed": installed_version(connection),
        "expected": expected_version(),
    }
    rows: dict[str, str] = dict(
        connection.execute(
            sa.text("SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname = ANY(:names)"),
            {"names": list(TRIGGER_NAMES)},
        ).all()
    )
    missing = [name for name in TRIGGER_NAMES if name not in rows]
    if missing:
        return Enforcement(
            False, f"event trigger(s) {', '.join(missing)} not installed", **versions
        )
    disabled = [name for name, state in rows.items() if state == "D"]
    if disabled:
        return Enforcement(
            False, f"event trigger(s) {', '.join(sorted(disabled))} disabled", **versions
        )
    return Enforcement(True, **versions)


def install(connection: Connection) -> Enforcement:
    """Install approvals and the event trigger, or upgrade them to this library's version;
    without the privilege, say why (no error).

    Runs in a savepoint so a refusal leaves the caller's transaction usable. An upgrade runs
    under an approval of this session (the live event trigger refuses DDL on its own schema),
    withdrawn before it returns.
    """
    if connection.dialect.name != "postgresql":
        return enforcement_status(connection)
    approvals = connection.execute(sa.text("SELECT to_regclass(:n)"), {"n": APPROVALS}).scalar()
    status = enforcement_status(connection)
    if approvals is not None and status.enabled and status.current:
        return status
    for statement in APPROVALS_DDL:
        run_ddl(connection, statement)
    upgrading = status.installed is not None
    try:
        with connection.begin_nested():
            if upgrading:
                connection.exec_driver_sql(_GRANT, (None, None, "upgrading the server-side guard"))
            statements = [*_TRIGGER_FUNCTIONS, *_event_triggers(replace=upgrading)]
            for statement in [*(_APPROVAL_FUNCTIONS if upgrading else []), *statements]:
                run_ddl(connection, statement)
            if upgrading:
                connection.exec_driver_sql(_REVOKE)
    except sa.exc.DBAPIError as err:
        if getattr(err.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        role = connection.execute(sa.text("SELECT session_user")).scalar()
        if status.enabled:
            return replace(
                status,
                reason=f"role {role} may not upgrade it (needs superuser; rds_superuser on "
                "RDS/Aurora): run a migration once as such a role",
            )
        return Enforcement(
            False,
            f"role {role} may not create event triggers (needs superuser; rds_superuser on "
            "RDS/Aurora), so only the client-side guard protects this database",
            installed=status.installed,
            expected=status.expected,
        )
    return replace(
        enforcement_status(connection),
        upgraded_from=status.installed
        if upgrading and status.installed != status.expected
        else None,
    )


def statement_digest(statement: str) -> str:
    """The md5 the server computes from ``current_query()`` for this exact statement text."""
    return hashlib.md5(statement.encode("utf-8")).hexdigest()  # noqa: S324  not for secrecy


_GRANT = (
    f"INSERT INTO {APPROVALS} (pid, backend_start, statement_md5, revision, reason) "
    "SELECT pid, backend_start, %s, %s, %s FROM pg_stat_activity WHERE pid = pg_backend_pid()"
)
_REVOKE = f"DELETE FROM {APPROVALS} WHERE pid = pg_backend_pid()"


def grant(
    dbapi_connection: Any, *, revision: str | None, reason: str, statement: str | None
) -> None:
    """Approve this session (``statement=None``) or one exact statement, on a DBAPI connection.

    A DBAPI connection, because the guard grants from inside SQLAlchemy's execute event.
    """
    digest = statement_digest(statement) if statement is not None else None
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_GRANT, (digest, revision, reason))


def revoke(dbapi_connection: Any) -> None:
    """Withdraw every approval of this session."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_REVOKE)


def revoke_sql() -> str:
    return _REVOKE


def grant_session_sql(revision: str, reason: str) -> str:
    """The offline script's approval of its own psql session (written after the guard block)."""
    rev = revision.replace("'", "''")
    why = reason.replace("'", "''")
    return (
        f"INSERT INTO {APPROVALS} (pid, backend_start, revision, reason) "
        f"SELECT pid, backend_start, '{rev}', '{why}' FROM pg_stat_activity "
        "WHERE pid = pg_backend_pid()"
    )


def grant_statement_sql(revision: str, reason: str, sent: str) -> str:
    """The offline script's approval of one exact statement (``sent``, as psql sends it).

    Written into the script just before the statement, so it is in the statement's
    transaction; only a statement policing judged (exempted with a reason, or removing what
    its own upgrade added) gets one, and it matches that text alone.
    """
    rev = revision.replace("'", "''")
    why = reason.replace("'", "''")
    return (
        f"INSERT INTO {APPROVALS} (pid, backend_start, statement_md5, revision, reason) "
        f"SELECT pid, backend_start, '{statement_digest(sent)}', '{rev}', '{why}' "
        "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    )


_USER_FUNCTIONS = """
SELECT DISTINCT n.nspname || '.' || p.proname, p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
   AND (p.proname = ANY(%s) OR n.nspname || '.' || p.proname = ANY(%s))"""


def user_functions(dbapi_connection: Any, names: list[str]) -> list[str]:
    """Which of ``names`` are functions a user wrote (not built in, not from an extension)."""
    if dbapi_connection is None or not names:
        return []
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_USER_FUNCTIONS, (names, names))
        found = {name for row in cursor.fetchall() for name in row}
    return [name for name in names if name in found]
