"""Contract preconditions about data: the backfill finished and left nothing unresolved."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from expandcontract.backfill import Backfill, backfill_complete, open_quarantine_count
from expandcontract.backfill.store import load_state
from expandcontract.errors import PreconditionFailed
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.catalog import count_rows
from expandcontract.ops.sqltext import bare

#: What a contract operation waits for: the backfill's definition (checked on the live rows),
#: the ``migrate_backfill`` operation, or only its name (its persisted state must say complete).
BackfillRef = str | Backfill | RunBackfill


def require_converted(
    connection: Connection,
    table: str,
    *,
    backfill: BackfillRef | None = None,
    pending: str | None = None,
    operation: str,
) -> None:
    """Refuse unless the backfill is complete and its quarantine resolved, and no row is pending.

    With the backfill's definition, "complete" is checked on the live rows: a write that arrived
    after the backfill ran, and that the sync trigger could not convert, blocks the contract
    until the backfill runs again (and quarantines it). ``pending`` (table aliased ``t``) is an
    extra predicate no live row may match.
    """
    if backfill is not None:
        _require_backfill(connection, table, backfill, operation)
    if pending is not None:
        left = count_rows(connection, table, pending)
        if left:
            raise PreconditionFailed(
                f"{operation} refused: {left} row(s) of {bare(table)} are not converted yet "
                f"({pending})"
            )


def _require_backfill(
    connection: Connection, table: str, backfill: BackfillRef, operation: str
) -> None:
    if isinstance(backfill, str):
        name = backfill
        state = load_state(connection, name)
        complete = state is not None and state.status == "complete"
    else:
        spec = backfill.spec() if isinstance(backfill, RunBackfill) else backfill
        name = spec.name
        complete = backfill_complete(connection, spec)
    if not complete:
        raise PreconditionFailed(
            f"{operation} refused: backfill {name!r} of {table} is not complete (rows are still "
            "waiting to be converted); run the migrate phase (`expandcontract upgrade migrate`)"
        )
    unresolved = open_quarantine_count(connection, table, name)
    if unresolved:
        raise PreconditionFailed(
            f"{operation} refused: {unresolved} quarantined row(s) of backfill {name!r} on "
            f"{table} are unresolved; fix them (the sync trigger converts the corrected value) "
            "or accept them with resolve_quarantine, then contract"
        )
