"""Contract preconditions about data: the backfill finished and left nothing unresolved."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from expandcontract.errors import PreconditionFailed
from expandcontract.ops.catalog import count_rows
from expandcontract.ops.sqltext import bare


def require_converted(
    connection: Connection,
    table: str,
    *,
    backfill: str | None = None,
    pending: str | None = None,
    operation: str,
) -> None:
    """Refuse unless backfill ``backfill`` completed, its quarantine is empty and no row is pending.

    ``pending`` is checked on the live rows (table aliased ``t``): a write that arrived after the
    backfill finished, and that the sync trigger could not convert, still blocks the contract.
    """
    if backfill is not None:
        from expandcontract.backfill import backfill_complete, open_quarantine_count

        if not backfill_complete(connection, backfill):
            raise PreconditionFailed(
                f"{operation} refused: backfill {backfill!r} on {table} has not completed; "
                "run the migrate phase (`expandcontract upgrade migrate`) first"
            )
        unresolved = open_quarantine_count(connection, table, backfill)
        if unresolved:
            raise PreconditionFailed(
                f"{operation} refused: {unresolved} quarantined row(s) of backfill {backfill!r} "
                f"on {table} are unresolved; fix or resolve them (table "
                "expandcontract_quarantine) before contracting, or the old values would be lost"
            )
    if pending is not None:
        left = count_rows(connection, table, pending)
        if left:
            raise PreconditionFailed(
                f"{operation} refused: {left} row(s) of {bare(table)} are not converted yet "
                f"({pending}); run the backfill again and resolve quarantined rows"
            )
