"""Contract preconditions about data: the backfill finished and left nothing unresolved.

A row the application writes after the backfill ran, and that the sync trigger cannot convert
(blue accepts an address the parser rejects), leaves the backfill "incomplete" for ever:
running the migrate phase again does nothing, it is applied. So the contract itself catches
up: before it refuses for pending rows it runs the backfill once more (it converts what it
can and quarantines the rest, committed on its own connection), and the refusal then names
the quarantined rows and the commands that resolve them.

:func:`contract_readiness` asks the same questions read-only, for ``expandcontract status``:
the preconditions of every operation of the pending contract revisions, on the live data.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from sqlalchemy.engine import Connection

from expandcontract.backfill import (
    Backfill,
    backfill_complete,
    list_quarantine,
    resolve_converted,
    run_backfill,
)
from expandcontract.backfill.paging import inspect_table, row_key_text
from expandcontract.backfill.statements import _fragment
from expandcontract.backfill.store import QUARANTINE_TABLE, _exists, load_state
from expandcontract.errors import ExpandContractError, PreconditionFailed
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import PhasedOperation
from expandcontract.ops.catalog import count_rows
from expandcontract.ops.sqltext import bare

log = logging.getLogger(__name__)

#: What a contract operation waits for: the backfill's definition (checked on the live rows),
#: the ``migrate_backfill`` operation, or only its name (its persisted state must say complete).
BackfillRef = str | Backfill | RunBackfill

_NAMED = 10  # rows named in a message; the rest are counted

# True while contract_readiness evaluates preconditions: nothing may be written then.
_READ_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "expandcontract_readiness_read_only", default=False
)


def require_converted(
    connection: Connection,
    table: str,
    *,
    backfill: BackfillRef | None = None,
    pending: str | None = None,
    operation: str,
) -> None:
    """Refuse unless the backfill is complete and its quarantine resolved, and no row is pending.

    With the backfill's definition, "complete" is checked on the live rows: rows written after
    the backfill ran that the sync trigger could not convert are swept up first (see the module
    docstring). ``pending`` (table aliased ``t``) is an extra predicate no live row may match.
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
    name = backfill if isinstance(backfill, str) else _spec(backfill).name
    state = load_state(connection, name)
    if state is None or state.status != "complete":
        # Never ran to the end: the migrate phase is still to do (or to finish), not ours.
        raise PreconditionFailed(
            f"{operation} refused: backfill {name!r} of {table} is not complete (rows are "
            "still waiting to be converted); run the migrate phase (`expandcontract upgrade "
            "migrate`)"
        )
    if isinstance(backfill, str):
        _require_resolved(connection, table, backfill, operation)
        return
    spec = _spec(backfill)
    if not backfill_complete(connection, spec):
        if _READ_ONLY.get():
            _refuse_pending(connection, spec, operation)
        else:
            _sweep(connection, spec)
            if not backfill_complete(connection, spec):
                _refuse_pending(connection, spec, operation)
    if not _READ_ONLY.get():
        # A quarantined row fixed since (by hand, or rewritten and converted by the trigger)
        # needs nothing more; this commits with the contract, or rolls back with its refusal.
        resolve_converted(connection, spec)
        _require_resolved(connection, table, spec.name, operation)
        return
    with _rolled_back(connection):
        resolve_converted(connection, spec)
        _require_resolved(connection, table, spec.name, operation)


def _spec(backfill: Backfill | RunBackfill) -> Backfill:
    spec = backfill.spec() if isinstance(backfill, RunBackfill) else backfill
    assert isinstance(spec, Backfill)
    return spec


def _sweep(connection: Connection, spec: Backfill) -> None:
    """Run the backfill again, committed on its own connection: converts the rows written
    after it ran and quarantines those it cannot convert."""
    log.warning(
        "backfill %s: rows of %s were written after it ran and are not converted; running it "
        "again before the contract",
        spec.name,
        spec.table,
    )
    run_backfill(connection.engine, spec, progress=False)


def _require_resolved(connection: Connection, table: str, name: str, operation: str) -> None:
    rows = list_quarantine(connection, table, name)
    if not rows:
        return
    named = ", ".join(f"{row.primary_key} ({row.reason})" for row in rows[:_NAMED])
    more = f" and {len(rows) - _NAMED} more" if len(rows) > _NAMED else ""
    first = rows[0].primary_key
    raise PreconditionFailed(
        f"{operation} refused: {len(rows)} quarantined row(s) of {table} are unresolved "
        f"(backfill {name!r} cannot convert them), key {named}{more}; dropping the old shape "
        f"would lose their only copy. See them with `expandcontract quarantine list --table "
        f"{table}`; fix each value (the sync trigger converts a corrected one) or accept it "
        f"as it is with `expandcontract quarantine resolve {table} --key {first} "
        "--resolution '...'`, then run the contract again"
    )


def _refuse_pending(connection: Connection, spec: Backfill, operation: str) -> None:
    """Refuse naming the rows still pending (read-only: also those the contract would
    quarantine, and why)."""
    found = _pending_rows(connection, spec)
    named = ", ".join(f"{key} ({reason or 'convertible'})" for key, reason in found[:_NAMED])
    more = " and more" if len(found) > _NAMED else ""
    if _READ_ONLY.get() and all(reason is None for _, reason in found):
        return  # the contract converts these itself when it runs: nothing to wait for
    verb = "would be refused" if _READ_ONLY.get() else "refused"
    raise PreconditionFailed(
        f"{operation} {verb}: rows of {spec.table} are not converted by backfill "
        f"{spec.name!r}, key {named}{more}. `expandcontract upgrade contract` runs the "
        "backfill again first: it converts what it can and quarantines the rest, and its "
        "refusal then names the rows to fix or accept (`expandcontract quarantine list`)"
    )


def _pending_rows(connection: Connection, spec: Backfill) -> list[tuple[str, str | None]]:
    """Up to ``_NAMED + 1`` pending, unquarantined rows: (key, reject reason or None)."""
    info = inspect_table(connection, spec)
    key = row_key_text(connection, info)
    source = f" LEFT JOIN {_fragment(spec.source)} ON TRUE" if spec.source else ""
    reason = f"({_fragment(spec.reject_reason)})::text" if spec.reject_reason else "NULL"
    where = f"({_fragment(spec.pending)})"
    params: dict[str, object] = {"limit": _NAMED + 1}
    if _exists(connection, QUARANTINE_TABLE):
        where += (
            f" AND NOT EXISTS (SELECT 1 FROM {QUARANTINE_TABLE} AS q WHERE "
            "q.backfill_name = :name AND q.table_name = :table_name "
            f"AND q.primary_key = {key})"
        )
        params.update(name=spec.name, table_name=spec.table)
    rows = connection.execute(
        sa.text(
            f"SELECT {key}, {reason} FROM {info.sql_name} AS t{source} WHERE {where} "
            "ORDER BY 1 LIMIT :limit"
        ),
        params,
    ).all()
    return [(str(k), r) for k, r in rows]


@contextmanager
def _rolled_back(connection: Connection) -> Iterator[None]:
    """Run the block in a savepoint that is always rolled back (a read-only look)."""
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def contract_readiness(connection: Connection, pending: Sequence[Script]) -> list[str]:
    """Read-only: why the operations of the ``pending`` contract revisions would refuse now.

    Each revision's ``upgrade()`` is run with an ``op`` that only collects the operations it
    invokes; their preconditions (``validate``) are then checked on the live data inside a
    savepoint that is rolled back. An empty list means none would refuse. Revisions whose
    upgrade cannot be replayed this way (it reads the database through ``op.get_bind()``, say)
    are reported as unknown rather than ready.
    """
    problems: list[str] = []
    context = MigrationContext.configure(connection)
    token = _READ_ONLY.set(True)
    try:
        for script in pending:
            try:
                operations = _collect(context, script)
            except Exception as err:  # a user's upgrade(): any failure means "cannot tell"
                problems.append(
                    f"{script.revision}: its preconditions cannot be checked without running "
                    f"it ({type(err).__name__}: {err})"
                )
                continue
            for operation in operations:
                try:
                    with _rolled_back(connection):
                        operation.validate(context)
                except ExpandContractError as err:
                    # The revision stops at its first refusal; so does the report.
                    problems.append(f"{script.revision}: {err}")
                    break
    finally:
        _READ_ONLY.reset(token)
    return problems


def _collect(context: MigrationContext, script: Script) -> list[PhasedOperation]:
    """The phase-typed operations ``script``'s upgrade() invokes, none of them run."""
    collected: list[object] = []
    operations = Operations(context)
    # Every op.* call ends in invoke(); collecting there runs nothing.
    operations.invoke = collected.append  # type: ignore[method-assign,assignment]
    operations._install_proxy()
    try:
        script.module.upgrade()
    finally:
        operations._remove_proxy()
    return [op for op in collected if isinstance(op, PhasedOperation)]
