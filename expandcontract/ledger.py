"""The ledger: an append-only table of release events in the target database.

It is the single source of truth every CI runner and operator shares: phases applied, releases
deployed and marked stable, snapshots, contracts applied, refused and forced. Rows are never
updated or deleted (a trigger enforces it); timestamps are UTC.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.config import LEDGER_TABLE
from expandcontract.durations import utcnow

Clock = Callable[[], datetime]


class Event(StrEnum):
    PHASE_APPLIED = "phase_applied"
    PHASE_REVERTED = "phase_reverted"
    RELEASE_DEPLOYED = "release_deployed"
    RELEASE_STABLE = "release_stable"
    SNAPSHOT_RECORDED = "snapshot_recorded"
    CONTRACT_APPLIED = "contract_applied"
    CONTRACT_REFUSED = "contract_refused"
    CONTRACT_FORCED = "contract_forced"


@dataclass(frozen=True)
class Entry:
    """One ledger row."""

    id: int
    event: Event
    recorded_at: datetime
    release: str | None = None
    revision: str | None = None
    phase: str | None = None
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


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


def ledger_ddl(table: str = LEDGER_TABLE) -> list[str]:
    """The statements that create the ledger; idempotent, also used in offline ``--sql`` output."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    event text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    release text,
    revision text,
    phase text,
    actor text,
    details jsonb NOT NULL DEFAULT '{{}}'::jsonb
)""",
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the expandcontract ledger is append-only';
END
$$""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
    ]


class Ledger:
    """Reads and appends ledger events on a connection; the caller owns the transaction."""

    def __init__(
        self, connection: Connection, table: str = LEDGER_TABLE, clock: Clock = utcnow
    ) -> None:
        self.connection = connection
        self.table = table
        self.clock = clock

    # -- set-up ---------------------------------------------------------------------------

    @property
    def _sqlite(self) -> bool:
        # Local development on SQLite: the same events, in a plain table (no PL/pgSQL, jsonb).
        return self.connection.dialect.name == "sqlite"

    def exists(self) -> bool:
        if self._sqlite:
            return sa.inspect(self.connection).has_table(self.table)
        found = self.connection.execute(
            sa.text("SELECT to_regclass(:name) IS NOT NULL"), {"name": self.table}
        ).scalar()
        return bool(found)

    def ensure(self) -> None:
        """Create the ledger on first use (safe when several runners race to create it)."""
        if self.exists():
            return
        if self._sqlite:
            for statement in _sqlite_ddl(self.table):
                self.connection.exec_driver_sql(statement)
            return
        self.connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": self.table}
        )
        if self.exists():
            return
        for statement in ledger_ddl(self.table):
            self.connection.exec_driver_sql(statement)

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
        details_sql = ":details" if self._sqlite else "CAST(:details AS jsonb)"
        at = self.clock()
        row = self.connection.execute(
            sa.text(
                f"INSERT INTO {self.table} "
                "(event, recorded_at, release, revision, phase, actor, details) "
                f"VALUES (:event, :at, :release, :revision, :phase, :actor, {details_sql}) "
                "RETURNING id"
            ),
            {
                "event": str(event),
                "at": at.astimezone(UTC).isoformat() if self._sqlite else at,
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
            recorded_at=at.astimezone(UTC),
            release=release,
            revision=revision,
            phase=phase,
            actor=actor,
            details=details or {},
        )

    def record_stable(
        self,
        release: str,
        *,
        soak: timedelta,
        stable_at: datetime | None = None,
        usage: dict[str, list[str]] | None = None,
    ) -> StableMark:
        """Record that ``release`` has been stable since ``stable_at`` (default: now)."""
        at = (stable_at or self.clock()).astimezone(UTC)
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


def _sqlite_ddl(table: str) -> list[str]:
    """The ledger on SQLite (local development): append-only through RAISE triggers."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    release TEXT,
    revision TEXT,
    phase TEXT,
    actor TEXT,
    details TEXT NOT NULL DEFAULT '{{}}'
)""",
        *(
            f"""CREATE TRIGGER IF NOT EXISTS {table}_append_only_{verb.lower()}
BEFORE {verb} ON {table} BEGIN
    SELECT RAISE(ABORT, 'the expandcontract ledger is append-only');
END"""
            for verb in ("UPDATE", "DELETE")
        ),
    ]


def _entry(row: Any) -> Entry:
    details = row.details if isinstance(row.details, dict) else json.loads(row.details or "{}")
    recorded_at = row.recorded_at
    if isinstance(recorded_at, str):  # SQLite keeps ISO-8601 text
        recorded_at = datetime.fromisoformat(recorded_at)
    return Entry(
        id=row.id,
        event=Event(row.event),
        recorded_at=recorded_at.astimezone(UTC),
        release=row.release,
        revision=row.revision,
        phase=row.phase,
        actor=row.actor,
        details=details,
    )
