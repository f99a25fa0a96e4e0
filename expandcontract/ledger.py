"""The ledger: an append-only table of release events in the target database.

It is the single source of truth every CI runner and operator shares: phases applied, releases
deployed and marked stable, snapshots, contracts applied, refused and forced.

On PostgreSQL it lives in its own schema (``expandcontract.expandcontract_ledger``), always
named in full, so no schema on ``search_path`` can shadow it. Nothing is granted to PUBLIC and
every other grant is revoked when it is created; the server stamps each row (``now()``,
``session_user``) whatever the client sends; UPDATE, DELETE and TRUNCATE are refused by
triggers that also fire under ``session_replication_role = replica``; :meth:`Ledger.writers`
names any role other than the owner that could still write it, and the hook refuses to run
while there is one. On SQLite (local development) it is a plain table.

A ledger from before the schema (``public.expandcontract_ledger``) is copied into the new one
once, and renamed ``expandcontract_ledger_migrated``; its stable marks were forgeable, so they
are kept for the record but no longer allow a contract (mark the release stable again).
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.config import LEDGER_SCHEMA, LEDGER_TABLE
from expandcontract.errors import ConfigurationError, ExpandContractError

QUALIFIED = f"{LEDGER_SCHEMA}.{LEDGER_TABLE}"
OLD_TABLE = f"public.{LEDGER_TABLE}"
MIGRATED_KEY = "migrated_from"


class Event(StrEnum):
    PHASE_APPLIED = "phase_applied"
    PHASE_REVERTED = "phase_reverted"
    RELEASE_DEPLOYED = "release_deployed"
    RELEASE_STABLE = "release_stable"
    SNAPSHOT_RECORDED = "snapshot_recorded"
    CONTRACT_STARTED = "contract_started"  # before each contract step: a crash leaves a trace
    CONTRACT_APPLIED = "contract_applied"
    CONTRACT_REFUSED = "contract_refused"
    CONTRACT_FORCED = "contract_forced"


class LedgerUnsafe(ExpandContractError):
    """Someone other than the migration owner can write the ledger, or its protection is off."""


@dataclass(frozen=True)
class Entry:
    """One ledger row; ``recorded_at`` and ``db_user`` come from the server."""

    id: int
    event: Event
    recorded_at: datetime
    release: str | None = None
    revision: str | None = None
    phase: str | None = None
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    db_user: str | None = None


@dataclass(frozen=True)
class StableMark:
    """Release ``release`` has served all traffic, healthy, since ``stable_at``."""

    release: str
    stable_at: datetime
    soak: timedelta
    recorded: Entry
    usage: dict[str, list[str]] | None = None

    @property
    def soak_ends_at(self) -> datetime:
        return self.stable_at + self.soak

    @property
    def migrated(self) -> bool:
        """Copied from the pre-schema ledger, where anyone with INSERT could have written it."""
        return MIGRATED_KEY in self.recorded.details

    @classmethod
    def from_entry(cls, entry: Entry) -> StableMark:
        details = entry.details
        return cls(
            release=entry.release or "",
            stable_at=datetime.fromisoformat(details["stable_at"]).astimezone(UTC),
            soak=timedelta(seconds=float(details["soak_seconds"])),
            recorded=entry,
            usage=details.get("usage"),
        )


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def ledger_ddl() -> list[str]:
    """The statements that create the PostgreSQL ledger; idempotent, also used offline."""
    # One statement that does nothing once the ledger exists: DDL on the ledger schema is
    # refused by the event trigger, so a re-run must not touch it.
    return [
        f"""DO $ledger$
DECLARE
    grantee text;
BEGIN
    IF to_regclass('{QUALIFIED}') IS NOT NULL THEN
        RETURN;
    END IF;
    CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA};
    REVOKE ALL ON SCHEMA {LEDGER_SCHEMA} FROM PUBLIC;
    CREATE TABLE {QUALIFIED} (
        id bigserial PRIMARY KEY,
        event text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        release text,
        revision text,
        phase text,
        actor text,
        details jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        db_user text NOT NULL DEFAULT session_user
    );
    IF to_regclass('{OLD_TABLE}') IS NOT NULL THEN
        -- Kept for the record; its marks no longer count (anyone with INSERT could write them).
        INSERT INTO {QUALIFIED} (id, event, recorded_at, release, revision, phase, actor, details, db_user)
        SELECT id, event, recorded_at, release, revision, phase, actor,
               details || jsonb_build_object('{MIGRATED_KEY}', '{OLD_TABLE}'), 'unknown'
          FROM {OLD_TABLE} ORDER BY id;
        PERFORM setval(pg_get_serial_sequence('{QUALIFIED}', 'id'),
                       greatest((SELECT max(id) FROM {QUALIFIED}), 1));
        ALTER TABLE {OLD_TABLE} RENAME TO {LEDGER_TABLE}_migrated;
    END IF;
    CREATE FUNCTION {LEDGER_SCHEMA}.ledger_stamp() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
    BEGIN
        NEW.recorded_at := now();
        NEW.db_user := session_user;
        RETURN NEW;
    END
    $fn$;
    CREATE FUNCTION {LEDGER_SCHEMA}.ledger_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
    BEGIN
        RAISE EXCEPTION 'the expandcontract ledger is append-only';
    END
    $fn$;
    CREATE TRIGGER ledger_stamp BEFORE INSERT ON {QUALIFIED}
        FOR EACH ROW EXECUTE FUNCTION {LEDGER_SCHEMA}.ledger_stamp();
    CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON {QUALIFIED}
        FOR EACH ROW EXECUTE FUNCTION {LEDGER_SCHEMA}.ledger_append_only();
    CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON {QUALIFIED}
        FOR EACH STATEMENT EXECUTE FUNCTION {LEDGER_SCHEMA}.ledger_append_only();
    -- ALWAYS: they fire under session_replication_role = replica too.
    ALTER TABLE {QUALIFIED} ENABLE ALWAYS TRIGGER ledger_stamp;
    ALTER TABLE {QUALIFIED} ENABLE ALWAYS TRIGGER ledger_append_only;
    ALTER TABLE {QUALIFIED} ENABLE ALWAYS TRIGGER ledger_no_truncate;
{revoke_others(QUALIFIED)}
    REVOKE ALL ON SEQUENCE {LEDGER_SCHEMA}.{LEDGER_TABLE}_id_seq FROM PUBLIC;
END
$ledger$""",
    ]


def revoke_others(table: str) -> str:
    """PL/pgSQL that takes every privilege on ``table`` from everyone but its owner.

    Default privileges may have granted the app role INSERT on every new table.
    """
    return f"""FOR grantee IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
          FROM pg_class c, aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
         WHERE c.oid = '{table}'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON {table} FROM %s', grantee);
    END LOOP;
    REVOKE ALL ON {table} FROM PUBLIC;"""


_SQLITE_DDL = f"""CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    release TEXT,
    revision TEXT,
    phase TEXT,
    actor TEXT,
    details TEXT NOT NULL DEFAULT '{{}}',
    db_user TEXT
)"""

# Roles other than the owner (and superusers, who can do anything) that could change the ledger.
_WRITERS = """
SELECT DISTINCT r.rolname
  FROM pg_roles r, pg_class c
 WHERE c.oid = ANY(ARRAY[to_regclass(:ledger), to_regclass(:approvals)])
   AND r.oid <> c.relowner
   AND r.rolname <> session_user
   AND NOT r.rolsuper
   AND r.rolname NOT LIKE 'pg\\_%'
   AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')
 ORDER BY r.rolname"""

_DISABLED_TRIGGERS = f"""
SELECT tgname FROM pg_trigger
 WHERE tgrelid = '{QUALIFIED}'::regclass AND NOT tgisinternal AND tgenabled <> 'A'
 ORDER BY tgname"""


class Ledger:
    """Reads and appends ledger events on a connection; the caller owns the transaction.

    Every time in the ledger comes from the database server's clock, never the runner's.
    """

    def __init__(self, connection: Connection, table: str | None = None) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.table = table or (QUALIFIED if self.postgres else LEDGER_TABLE)

    # -- set-up ---------------------------------------------------------------------------

    def exists(self) -> bool:
        if self.postgres:
            query = "SELECT to_regclass(:name) IS NOT NULL"
        else:
            query = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = :name"
        return bool(self.connection.execute(sa.text(query), {"name": self.table}).scalar())

    def ensure(self) -> None:
        """Create the ledger on first use (safe when several runners race to create it)."""
        if not self.postgres:
            self.connection.exec_driver_sql(_SQLITE_DDL)
            return
        if self.exists():
            return
        self.connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": self.table}
        )
        for statement in ledger_ddl():
            run_ddl(self.connection, statement)

    def writers(self) -> list[str]:
        """Roles other than the owner and this session's role that could write the ledger
        (or the guard's approvals beside it)."""
        if not self.postgres or not self.exists():
            return []
        names = {"ledger": QUALIFIED, "approvals": f"{LEDGER_SCHEMA}.approvals"}
        return list(self.connection.execute(sa.text(_WRITERS), names).scalars())

    def check_protected(self) -> None:
        """Raise :class:`LedgerUnsafe` when the ledger could be forged (PostgreSQL only)."""
        if not self.postgres or not self.exists():
            return
        roles = self.writers()
        if roles:
            raise LedgerUnsafe(
                f"role(s) {', '.join(roles)} can write the ledger {QUALIFIED}, so they could "
                "forge a stable mark: `REVOKE ALL ON "
                f"{QUALIFIED} FROM {', '.join(roles)}` (only the migration owner may write it)"
            )
        disabled = list(self.connection.execute(sa.text(_DISABLED_TRIGGERS)).scalars())
        if disabled:
            raise LedgerUnsafe(
                f"the ledger's protecting trigger(s) {', '.join(disabled)} are not enabled "
                f"ALWAYS: `ALTER TABLE {QUALIFIED} ENABLE ALWAYS TRIGGER ...`"
            )

    # -- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The database's clock (the guard never reads the runner's)."""
        if self.postgres:
            value = self.connection.execute(sa.text("SELECT now()")).scalar_one()
        else:
            value = self.connection.execute(
                sa.text("SELECT strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')")
            ).scalar_one()
        return _utc(value)

    # -- writing --------------------------------------------------------------------------

    def record(
        self,
        event: Event,
        *,
        release: str | None = None,
        revision: str | None = None,
        phase: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Entry:
        actor = _actor()
        details_value = "CAST(:details AS jsonb)" if self.postgres else ":details"
        row = self.connection.execute(
            sa.text(
                f"INSERT INTO {self.table} (event, release, revision, phase, actor, details) "
                f"VALUES (:event, :release, :revision, :phase, :actor, {details_value}) "
                "RETURNING id, recorded_at, db_user"
            ),
            {
                "event": str(event),
                "release": release,
                "revision": revision,
                "phase": phase,
                "actor": actor,
                "details": json.dumps(details or {}, default=str),
            },
        ).one()
        return Entry(
            id=row.id,
            event=event,
            recorded_at=_utc(row.recorded_at),
            release=release,
            revision=revision,
            phase=phase,
            actor=actor,
            details=details or {},
            db_user=row.db_user,
        )

    def record_stable(
        self,
        release: str,
        *,
        soak: timedelta,
        stable_at: datetime | None = None,
        usage: dict[str, list[str]] | None = None,
    ) -> StableMark:
        """Record that ``release`` has been stable since ``stable_at`` (default: the db's now).

        A ``stable_at`` later than the database's clock is refused: a release cannot have been
        stable since a moment that has not come yet.
        """
        now = self.now()
        if stable_at is not None and stable_at.tzinfo is None:
            raise ConfigurationError("the stable-since time needs a UTC offset")
        at = (stable_at or now).astimezone(UTC)
        if at > now:
            raise ConfigurationError(
                f"release {release} cannot be stable since {at.isoformat()}: that is later "
                f"than the database's clock ({now.isoformat(timespec='seconds')})"
            )
        details: dict[str, Any] = {
            "stable_at": at.isoformat(),
            "soak_seconds": soak.total_seconds(),
        }
        if usage is not None:
            details["usage"] = usage
        entry = self.record(Event.RELEASE_STABLE, release=release, details=details)
        return StableMark.from_entry(entry)

    # -- reading --------------------------------------------------------------------------

    def entries(
        self, event: Event | None = None, limit: int | None = None, **match: str
    ) -> list[Entry]:
        """Entries, newest first; ``match`` filters on the release, revision or phase columns."""
        if not self.exists():
            return []
        unknown = set(match) - _MATCHABLE
        if unknown:
            raise ValueError(f"cannot filter ledger entries on {', '.join(sorted(unknown))}")
        conditions = [f"{column} = :{column}" for column in match]
        params: dict[str, Any] = dict(match)
        if event is not None:
            conditions.append("event = :event")
            params["event"] = str(event)
        query = f"SELECT * FROM {self.table}"
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [_entry(row) for row in self.connection.execute(sa.text(query), params)]

    def latest(self, event: Event, **match: str) -> Entry | None:
        """The newest entry of ``event`` whose columns equal ``match``."""
        found = self.entries(event, limit=1, **match)
        return found[0] if found else None

    def latest_stable(self) -> StableMark | None:
        entry = self.latest(Event.RELEASE_STABLE)
        return StableMark.from_entry(entry) if entry else None

    def last_applied(self, revision: str) -> Entry | None:
        return self.latest(Event.PHASE_APPLIED, revision=revision)


_MATCHABLE = {"release", "revision", "phase"}


def run_ddl(connection: Connection, statement: str) -> None:
    """Execute a parameterless statement verbatim (the driver would read ``%`` as a placeholder)."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        statement = statement.replace("%", "%%")
    connection.exec_driver_sql(statement)


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _entry(row: Any) -> Entry:
    details = row.details if isinstance(row.details, dict) else json.loads(row.details or "{}")
    return Entry(
        id=row.id,
        event=Event(row.event),
        recorded_at=_utc(row.recorded_at),
        release=row.release,
        revision=row.revision,
        phase=row.phase,
        actor=row.actor,
        details=details,
        db_user=getattr(row, "db_user", None),
    )
