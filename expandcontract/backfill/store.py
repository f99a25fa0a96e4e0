"""The backfill's bookkeeping tables: the persisted cursor and the quarantine.

Both live in the target database (so every runner sees them) and start with
``expandcontract_``, which keeps them out of Alembic autogenerate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

STATE_TABLE = "expandcontract_backfill_state"
QUARANTINE_TABLE = "expandcontract_quarantine"

_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
        name text PRIMARY KEY,
        table_name text NOT NULL,
        fingerprint text NOT NULL,
        key_columns text[] NOT NULL,
        last_key text[],
        status text NOT NULL,
        scanned bigint NOT NULL DEFAULT 0,
        rows_converted bigint NOT NULL DEFAULT 0,
        rows_quarantined bigint NOT NULL DEFAULT 0,
        batches bigint NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
    )""",
    f"""CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
        id bigserial PRIMARY KEY,
        table_name text NOT NULL,
        primary_key text NOT NULL,
        original_value text,
        reason text NOT NULL,
        backfill_name text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolution text
    )""",
    # One open entry per row and backfill: a re-run or a resumed run never duplicates it.
    f"""CREATE UNIQUE INDEX IF NOT EXISTS {QUARANTINE_TABLE}_open_key
        ON {QUARANTINE_TABLE} (backfill_name, table_name, primary_key)
        WHERE resolved_at IS NULL""",
]

# Entries name their table as the revision spelled it ("cust", "public.cust", '"Cust"'): match
# by what PostgreSQL resolves both spellings to, so no spelling slips past a contract's check.
SAME_TABLE = "({column} = :{param} OR to_regclass({column}) = to_regclass(:{param}))"

QUARANTINE_CONFLICT = (
    "ON CONFLICT (backfill_name, table_name, primary_key) WHERE resolved_at IS NULL DO NOTHING"
)


def ensure_tables(connection: Connection) -> None:
    """Create the bookkeeping tables if missing (idempotent, safe for concurrent callers)."""
    with connection.begin():
        # CREATE TABLE IF NOT EXISTS still races on the catalog; serialise the creators.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('expandcontract:ddl'))"))
        for statement in _DDL:
            connection.execute(sa.text(statement))


def _exists(connection: Connection, table: str) -> bool:
    return bool(
        connection.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar()
    )


@dataclass(frozen=True)
class SavedState:
    """A backfill's persisted progress."""

    fingerprint: str
    key_columns: tuple[str, ...]
    last_key: tuple[str, ...] | None
    status: str
    scanned: int
    rows_converted: int
    rows_quarantined: int
    batches: int


def load_state(connection: Connection, name: str) -> SavedState | None:
    """The saved state of backfill ``name``, or None if it never ran."""
    if not _exists(connection, STATE_TABLE):
        return None
    row = connection.execute(
        sa.text(
            f"SELECT fingerprint, key_columns, last_key, status, scanned, rows_converted, "
            f"rows_quarantined, batches FROM {STATE_TABLE} WHERE name = :n"
        ),
        {"n": name},
    ).first()
    if row is None:
        return None
    return SavedState(
        fingerprint=row.fingerprint,
        key_columns=tuple(row.key_columns),
        last_key=tuple(row.last_key) if row.last_key is not None else None,
        status=row.status,
        scanned=row.scanned,
        rows_converted=row.rows_converted,
        rows_quarantined=row.rows_quarantined,
        batches=row.batches,
    )


def start_state(
    connection: Connection, name: str, table: str, fingerprint: str, key_columns: tuple[str, ...]
) -> None:
    """(Re)start backfill ``name`` from the beginning of the table."""
    connection.execute(
        sa.text(
            f"INSERT INTO {STATE_TABLE} (name, table_name, fingerprint, key_columns, status) "
            "VALUES (:n, :t, :f, :k, 'running') ON CONFLICT (name) DO UPDATE SET "
            "table_name = EXCLUDED.table_name, fingerprint = EXCLUDED.fingerprint, "
            "key_columns = EXCLUDED.key_columns, last_key = NULL, status = 'running', "
            "scanned = 0, rows_converted = 0, rows_quarantined = 0, batches = 0, "
            "started_at = now(), updated_at = now(), completed_at = NULL"
        ),
        {"n": name, "t": table, "f": fingerprint, "k": list(key_columns)},
    )


def advance_state(
    connection: Connection,
    name: str,
    last_key: tuple[str, ...],
    scanned: int,
    converted: int,
    quarantined: int,
) -> None:
    """Move the cursor past one committed batch (run inside that batch's transaction)."""
    connection.execute(
        sa.text(
            f"UPDATE {STATE_TABLE} SET last_key = :k, scanned = scanned + :s, "
            "rows_converted = rows_converted + :c, rows_quarantined = rows_quarantined + :q, "
            "batches = batches + 1, status = 'running', updated_at = now() WHERE name = :n"
        ),
        {"n": name, "k": list(last_key), "s": scanned, "c": converted, "q": quarantined},
    )


def set_status(connection: Connection, name: str, status: str) -> None:
    """Record ``running``, ``stopped`` or ``complete``."""
    connection.execute(
        sa.text(
            f"UPDATE {STATE_TABLE} SET status = :s, updated_at = now(), "
            "completed_at = CASE WHEN :s = 'complete' THEN now() END WHERE name = :n"
        ),
        {"n": name, "s": status},
    )


@dataclass(frozen=True)
class QuarantinedRow:
    """One row a backfill could not convert; its original value is kept untouched."""

    id: int
    table_name: str
    primary_key: str
    original_value: str | None
    reason: str
    backfill_name: str
    recorded_at: object
    resolved_at: object
    resolution: str | None


def _filters(
    table: str | None, name: str | None, keys: list[str] | None
) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if table is not None:
        clauses.append(SAME_TABLE.format(column="table_name", param="table"))
        params["table"] = table
    if name is not None:
        clauses.append("backfill_name = :name")
        params["name"] = name
    if keys is not None:
        clauses.append("primary_key = ANY(:keys)")
        params["keys"] = [str(k) for k in keys]
    return (" AND ".join(clauses) or "TRUE"), params


def open_quarantine_count(connection: Connection, table: str, name: str | None = None) -> int:
    """How many quarantined rows of ``table`` (optionally of backfill ``name``) are unresolved.

    Contract operations refuse while this is not zero.
    """
    if not _exists(connection, QUARANTINE_TABLE):
        return 0
    where, params = _filters(table, name, None)
    return int(
        connection.execute(
            sa.text(
                f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE {where} AND resolved_at IS NULL"
            ),
            params,
        ).scalar_one()
    )


def list_quarantine(
    connection: Connection,
    table: str | None = None,
    name: str | None = None,
    include_resolved: bool = False,
) -> list[QuarantinedRow]:
    """Quarantined rows, oldest first (unresolved only unless ``include_resolved``)."""
    if not _exists(connection, QUARANTINE_TABLE):
        return []
    where, params = _filters(table, name, None)
    if not include_resolved:
        where += " AND resolved_at IS NULL"
    rows = connection.execute(
        sa.text(
            "SELECT id, table_name, primary_key, original_value, reason, backfill_name, "
            f"recorded_at, resolved_at, resolution FROM {QUARANTINE_TABLE} WHERE {where} "
            "ORDER BY id"
        ),
        params,
    ).all()
    return [QuarantinedRow(*row) for row in rows]


def resolve_quarantine(
    connection: Connection,
    table: str,
    *,
    keys: list[str] | None = None,
    name: str | None = None,
    resolution: str = "resolved",
) -> int:
    """Mark quarantined rows of ``table`` resolved (all, or those whose primary key is in ``keys``).

    Use it after fixing the rows by hand, or to accept them as they are. Entries are kept (with
    ``resolved_at`` and ``resolution``) for the record. Returns how many were resolved. Runs in
    the caller's transaction; the caller commits.
    """
    if not _exists(connection, QUARANTINE_TABLE):
        return 0
    where, params = _filters(table, name, keys)
    result = connection.execute(
        sa.text(
            f"UPDATE {QUARANTINE_TABLE} SET resolved_at = now(), resolution = :resolution "
            f"WHERE {where} AND resolved_at IS NULL"
        ),
        {**params, "resolution": resolution},
    )
    return int(result.rowcount)
