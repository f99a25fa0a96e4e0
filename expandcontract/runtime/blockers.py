"""Who would a DDL statement queue behind? Table locks that conflict with the statement's.

PostgreSQL grants a lock request only when it conflicts with no lock held *and* with no request
already queued ahead of it; a queued ``ALTER TABLE`` therefore stalls every later query on the
table. Asking ``pg_locks`` first — is any other session holding a lock on the table
that conflicts with the mode this statement needs? — lets the runner join the queue only when
it can be granted at once. The answer is a snapshot (a session may take a lock a moment later),
which is why the attempt itself still runs under a short ``lock_timeout``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.sql import Change

ACCESS_EXCLUSIVE = "AccessExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"

# PostgreSQL's table-level lock conflict matrix ("Explicit Locking", table 13.2).
_ALL = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
CONFLICTS: dict[str, frozenset[str]] = {
    "AccessShareLock": frozenset(_ALL[7:]),
    "RowShareLock": frozenset(_ALL[6:]),
    "RowExclusiveLock": frozenset(_ALL[4:]),
    "ShareUpdateExclusiveLock": frozenset(_ALL[3:]),
    "ShareLock": frozenset({_ALL[2], _ALL[3], *_ALL[5:]}),
    "ShareRowExclusiveLock": frozenset(_ALL[2:]),
    "ExclusiveLock": frozenset(_ALL[1:]),
    "AccessExclusiveLock": frozenset(_ALL),
}


@dataclass(frozen=True)
class TableLock:
    """A table a statement locks, and the mode it needs."""

    table: str
    mode: str


def lock_mode(change: Change) -> str:
    """The lock ``change`` takes on its table; ACCESS EXCLUSIVE when unsure (fails safe: waits
    for a moment with no reader either)."""
    if change.kind == "create_index":
        return SHARE_UPDATE_EXCLUSIVE if "concurrently" in change.flags else "ShareLock"
    if change.kind == "validate_constraint":
        return SHARE_UPDATE_EXCLUSIVE
    if change.kind == "create_trigger":
        return "ShareRowExclusiveLock"
    return ACCESS_EXCLUSIVE


def table_locks(changes: Iterable[Change]) -> list[TableLock]:
    """The table locks of a statement's changes (strongest mode per table)."""
    strongest: dict[str, str] = {}
    for change in changes:
        if not change.table:
            continue
        mode = lock_mode(change)
        held = strongest.get(change.table)
        if held is None or len(CONFLICTS[mode]) > len(CONFLICTS[held]):
            strongest[change.table] = mode
    return [TableLock(table, mode) for table, mode in strongest.items()]


def _regclass_text(table: str) -> str:
    # classify() gives bare names ("schema.table"); quote each part for to_regclass.
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))


_CONFLICTING = sa.text(
    "SELECT DISTINCT l.pid FROM pg_catalog.pg_locks AS l "
    "LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid "
    "WHERE l.locktype = 'relation' "
    "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
    "AND l.relation = to_regclass(:table) AND l.mode = ANY(CAST(:modes AS text[])) "
    "AND l.granted AND l.pid IS DISTINCT FROM pg_backend_pid() "
    "AND (a.xact_start IS NULL OR clock_timestamp() - a.xact_start >= :older_than) ORDER BY 1"
)


def conflicting_pids(
    connection: Connection, locks: Sequence[TableLock], older_than: float = 0.0
) -> list[int]:
    """Sessions holding a lock that conflicts with one of ``locks``, whose transaction has been
    open for at least ``older_than`` seconds (one ``pg_locks`` read per table).

    Granted locks only: a session *awaiting* a lock on the table may be queued behind this
    very transaction (an earlier statement of the revision took its lock), and waiting for it
    would be a deadlock nobody detects.

    ``older_than`` tells a long transaction from the stream of short ones on a busy table: on a
    hot table some session nearly always holds a lock, and waiting for a moment with none
    could starve the statement, while queueing behind a transaction a few milliseconds old
    costs the app a few milliseconds.
    """
    # pg_stat_activity is read once per transaction and cached: refresh it.
    connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    pids: set[int] = set()
    for lock in locks:
        rows = connection.execute(
            _CONFLICTING,
            {
                "table": _regclass_text(lock.table),
                "modes": sorted(CONFLICTS[lock.mode]),
                "older_than": timedelta(seconds=older_than),
            },
        ).scalars()
        pids.update(pid for pid in rows if pid is not None)
    return sorted(pids)


@dataclass(frozen=True)
class Session:
    """Another session, as an operator needs it to decide what to do about it."""

    pid: int
    application_name: str
    state: str | None
    query_start: datetime | None
    xact_start: datetime | None
    query: str

    def describe(self) -> str:
        started = f"{self.query_start:%Y-%m-%d %H:%M:%S %Z}" if self.query_start else "?"
        since = f", transaction open since {self.xact_start:%H:%M:%S}" if self.xact_start else ""
        return (
            f"pid {self.pid} (application_name {self.application_name or '(none)'!r}, "
            f"state {self.state or '?'}, query_start {started}{since}, "
            f"query {self.query.strip()[:120]!r})"
        )


_SESSIONS = sa.text(
    "SELECT pid, application_name, state, query_start, xact_start, coalesce(query, '') AS query "
    "FROM pg_catalog.pg_stat_activity WHERE pid = ANY(CAST(:pids AS int[])) ORDER BY xact_start"
)


def sessions(connection: Connection, pids: Sequence[int]) -> list[Session]:
    """What ``pids`` are doing now."""
    if not pids:
        return []
    # pg_stat_activity is read once per transaction and cached: refresh it.
    connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    rows = connection.execute(_SESSIONS, {"pids": list(pids)}).mappings()
    return [Session(**row) for row in rows]


def blocking_pids(connection: Connection, pid: int) -> list[int]:
    """The sessions ``pid`` waits for now (any lock: a table, another transaction's snapshot)."""
    found = connection.execute(sa.text("SELECT pg_blocking_pids(:pid)"), {"pid": pid}).scalar()
    return sorted(found or [])


def describe(found: Sequence[Session]) -> str:
    return "; ".join(s.describe() for s in found) if found else "no session found (it ended)"
