"""Preconditions contract operations check on the live data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill.paging import inspect_table, make_pager
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.statements import _fragment
from expandcontract.backfill.store import QUARANTINE_TABLE, _exists


def pending_rows(connection: Connection, spec: Backfill, limit: int = 1) -> int:
    """How many rows (up to ``limit``) still match ``pending`` and are not in quarantine.

    Quarantined rows count as handled here, resolved or not; whether the quarantine is
    resolved is :func:`~expandcontract.backfill.open_quarantine_count`'s question.
    """
    table = inspect_table(connection, spec)
    where = f"({_fragment(spec.pending)})"
    params: dict[str, object] = {"limit": limit}
    if _exists(connection, QUARANTINE_TABLE):
        key = make_pager(connection, table).key_text()
        where += (
            f" AND NOT EXISTS (SELECT 1 FROM {QUARANTINE_TABLE} AS q WHERE "
            "q.backfill_name = :name AND q.table_name = :table_name "
            f"AND q.primary_key = {key})"
        )
        params.update(name=spec.name, table_name=spec.table)
    return int(
        connection.execute(
            sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {table.sql_name} AS t WHERE {where} "
                "LIMIT :limit) AS pending"
            ),
            params,
        ).scalar_one()
    )


def backfill_complete(connection: Connection, spec: Backfill) -> bool:
    """True when no row of the table matches ``spec.pending`` except quarantined ones.

    Runs on the caller's connection and transaction (contract operations use it as a
    precondition before dropping the old shape).
    """
    return pending_rows(connection, spec, limit=1) == 0


def resolve_converted(connection: Connection, spec: Backfill) -> int:
    """Resolve the open quarantine entries of ``spec`` whose rows no longer match ``pending``.

    A row fixed after it was quarantined (corrected by hand, or rewritten by the application
    and converted by the sync trigger) needs no attention any more. :func:`run_backfill` calls
    this when it completes; returns how many entries were resolved. Runs in the caller's
    transaction.
    """
    if not _exists(connection, QUARANTINE_TABLE):
        return 0
    table = inspect_table(connection, spec)
    if len(table.key_columns) == 1:
        # Compare in the key's own type so the lookup uses the primary key (or a TID scan).
        column = (
            "ctid"
            if table.uses_ctid
            else connection.dialect.identifier_preparer.quote(table.key_columns[0])
        )
        match = f"t.{column} = CAST(q.primary_key AS {table.key_types[0]})"
    else:
        match = f"{make_pager(connection, table).key_text()} = q.primary_key"
    result = connection.execute(
        sa.text(
            f"UPDATE {QUARANTINE_TABLE} AS q SET resolved_at = now(), "
            "resolution = 'converted later: the row no longer needs converting' "
            "WHERE q.backfill_name = :name AND q.table_name = :table_name "
            "AND q.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
            f"{table.sql_name} AS t WHERE {match} AND ({_fragment(spec.pending)}))"
        ),
        {"name": spec.name, "table_name": spec.table},
    )
    return int(result.rowcount)
