"""migrate: convert existing rows in short batches (the backfill engine, outside Alembic's transaction)."""

from __future__ import annotations

from typing import Any

from alembic.operations import Operations

from expandcontract.ops.base import Noop, PhasedOperation, register
from expandcontract.phases import Phase


@register
class RunBackfill(PhasedOperation):
    """``op.migrate_backfill(name, table, set_columns, pending=..., reject_reason=..., source=...)``.

    Runs :func:`expandcontract.backfill.run_backfill`: keyset batches on the primary key, one
    short transaction each, sized to ``time_budget`` seconds, resumable from a persisted cursor,
    unconvertible rows quarantined with ``reject_reason``. It runs in an autocommit block, so
    the revision's own transaction is committed first and never held open during the backfill.
    The table is aliased ``t`` in every SQL fragment. Offline (``--sql``) it cannot run; the
    script carries a comment saying so.
    """

    name = "migrate_backfill"
    phase = Phase.MIGRATE

    def __init__(
        self,
        backfill: str,
        table: str,
        set_columns: dict[str, str],
        *,
        pending: str,
        reject_reason: str | None = None,
        original: str | None = None,
        source: str | None = None,
        time_budget: float = 0.2,
        delay: float = 0.0,
        progress: Any = None,
    ) -> None:
        self.backfill = backfill
        self.table = table
        self.set_columns = dict(set_columns)
        self.pending = pending
        self.reject_reason = reject_reason
        self.original = original
        self.source = source
        self.time_budget = time_budget
        self.delay = delay
        self.progress = progress

    def spec(self) -> Any:
        from expandcontract.backfill import Backfill

        return Backfill(
            self.backfill,
            self.table,
            self.set_columns,
            pending=self.pending,
            reject_reason=self.reject_reason,
            original=self.original,
            source=self.source,
        )

    def apply(self, operations: Operations) -> Any:
        context = operations.get_context()
        if context.as_sql:
            context.impl.static_output(
                f"-- expandcontract: backfill {self.backfill!r} of {self.table} runs only "
                "online (`expandcontract upgrade migrate`), in short batches"
            )
            return None
        from expandcontract.backfill import run_backfill

        spec = self.spec()
        with context.autocommit_block():
            return run_backfill(
                operations.get_bind().engine,
                spec,
                time_budget=self.time_budget,
                delay=self.delay,
                progress=self.progress,
            )

    def reverse(self) -> PhasedOperation:
        return Noop(self.name)
