"""Preconditions contract operations check on the live data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill.paging import inspect_table, row_key_text
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.statements import _fragment
from expandcontract.backfill.store import QUARANTINE_TABLE, SAME_TABLE, _exists


def backfill_complete(connection: Connection, spec: Backfill) -> bool:
    """True when no row of the table matches ``spec.pending`` except quarantined ones.

    Quarantined rows count as handled here, resolved or not; whether the quarantine is
    resolved is :func:`~expandcontract.backfill.open_quarantine_count`'s question. Runs on the
    caller's connection and transaction (contract operations use it as a precondition before
    dropping the old shape).
    """
    table = inspect_table(connection, spec)
    where = f"({_fragment(spec.pending)})"
    params: dict[str, object] = {}
    if _exists(connection, QUARANTINE_TABLE):
        where += (
            f" AND NOT EXISTS (SELECT 1 FROM {QUARANTINE_TABLE} AS q WHERE "
            "q.backfill_name = :name AND "
            + SAME_TABLE.format(column="q.table_name", param="table_name")
            + " "
            f"AND q.primary_key = {row_key_text(connection, table)})"
        )
        params.update(name=spec.name, table_name=spec.table)
    pending = connection.execute(
        sa.text(f"SELECT EXISTS (SELECT 1 FROM {table.sql_name} AS t WHERE {where})"), params
    ).scalar_one()
    return not pending


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
        match = f"{row_key_text(connection, table)} = q.primary_key"
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
