"""contract: finish a column rename (or type change) done through a new column and a sync trigger."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import Group, PhasedOperation, live_connection, register
from expandcontract.ops.catalog import require, require_column, trigger_exists
from expandcontract.ops.drop_column import DropColumn
from expandcontract.ops.drop_sync_trigger import DropSyncTrigger
from expandcontract.ops.readiness import BackfillRef, require_converted
from expandcontract.ops.sqltext import TypeLike, ident
from expandcontract.ops.sync_trigger import InstallSyncTrigger
from expandcontract.phases import Phase


@register
class FinalizeRename(PhasedOperation):
    """``op.contract_finalize_rename("customers", "mail", "email", trigger="customers_mail_sync")``.

    The rename happened in expand as a new column kept in step by a sync trigger; finalizing
    drops the trigger and the old column. Refuses unless the trigger exists, the new column
    exists, and either the backfill (``after_backfill``: its ``migrate_backfill`` operation or
    spec, checked on the live rows, or its name) is complete with nothing quarantined, or no live
    row still differs (``pending``, default ``t.old IS DISTINCT FROM t.new``).
    ``trigger`` may be the install operation itself, which with ``old_type`` makes it reversible
    (``restore``: SQL over ``t`` recomputing the old column, default ``t.new``).
    """

    name = "contract_finalize_rename"
    phase = Phase.CONTRACT

    def __init__(
        self,
        table: str,
        old_column: str,
        new_column: str,
        *,
        trigger: str | InstallSyncTrigger,
        after_backfill: BackfillRef | None = None,
        pending: str | None = None,
        old_type: TypeLike | None = None,
        restore: str | None = None,
    ) -> None:
        self.table = table
        self.old_column = old_column
        self.new_column = new_column
        self.trigger = trigger
        self.after_backfill = after_backfill
        if pending is None and after_backfill is None:
            pending = f"t.{ident(old_column)} IS DISTINCT FROM t.{ident(new_column)}"
        self.pending = pending
        self.old_type = old_type
        self.restore = restore or f"t.{ident(new_column)}"

    @property
    def trigger_name(self) -> str:
        return self.trigger if isinstance(self.trigger, str) else self.trigger.trigger

    def _definition(self) -> InstallSyncTrigger | None:
        return None if isinstance(self.trigger, str) else self.trigger

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        what = f"{self.name} {self.table}.{self.old_column} -> {self.new_column}"
        for column in (self.old_column, self.new_column):
            require_column(connection, what, self.table, column)
        require(
            trigger_exists(connection, self.table, self.trigger_name),
            f"{what} refused: sync trigger {self.trigger_name} does not exist on {self.table}, "
            "so writes of the old release may not have reached the new column",
        )
        require_converted(
            connection,
            self.table,
            backfill=self.after_backfill,
            pending=self.pending,
            operation=what,
        )

    def steps(self) -> list[PhasedOperation]:
        return [
            DropSyncTrigger(self.trigger_name, self.table, definition=self._definition()),
            DropColumn(self.table, self.old_column, type_=self.old_type),
        ]

    def plan(self) -> list[str]:
        return [statement for step in self.steps() for statement in step.plan()]

    def reverse(self) -> PhasedOperation:
        definition = self._definition()
        if definition is None or self.old_type is None:
            return super().reverse()
        # Bring the old column back, keep it in step again, and refill it from the new one.
        refill = RunBackfill(
            f"{definition.trigger}_restore",
            self.table,
            {self.old_column: self.restore},
            pending=f"t.{ident(self.old_column)} IS NULL AND t.{ident(self.new_column)} IS NOT NULL",
        )
        return Group([AddColumn(self.table, self.old_column, self.old_type), definition, refill])
