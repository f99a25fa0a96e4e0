"""contract: remove a sync trigger (and its helper functions) once nothing needs it."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import require, trigger_exists
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.readiness import BackfillRef, require_converted
from expandcontract.ops.sqltext import ident, qualified
from expandcontract.ops.sync_trigger import (
    InstallSyncTrigger,
    insert_trigger,
    trigger_function,
)
from expandcontract.phases import Phase


@register
class DropSyncTrigger(PhasedOperation):
    """``op.contract_drop_sync_trigger("customers_address_sync", "customers", after_backfill="...")``.

    Drops the trigger, its INSERT half and its function. Refuses unless the trigger exists,
    and — when ``after_backfill`` / ``pending`` are given — the backfill is complete with no
    unresolved quarantined row (see ``contract_drop_column``) and no live row matches
    ``pending`` (table aliased ``t``). ``definition`` (the install operation) makes it
    reversible and names the helper functions to drop with it.
    """

    name = "contract_drop_sync_trigger"
    phase = Phase.CONTRACT

    def __init__(
        self,
        trigger: str,
        table: str,
        *,
        after_backfill: BackfillRef | None = None,
        pending: str | None = None,
        definition: InstallSyncTrigger | None = None,
    ) -> None:
        self.trigger = trigger
        self.table = table
        self.after_backfill = after_backfill
        self.pending = pending
        self.definition = definition

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        require(
            trigger_exists(connection, self.table, self.trigger),
            f"{self.name} refused: trigger {self.trigger} does not exist on {self.table}",
        )
        require_converted(
            connection,
            self.table,
            backfill=self.after_backfill,
            pending=self.pending,
            operation=f"{self.name} {self.trigger}",
        )

    def plan(self) -> list[str]:
        function = trigger_function(self.table, self.trigger)
        helpers: tuple[SqlFunction, ...] = (
            tuple(self.definition.functions) if self.definition else ()
        )
        return [
            # Its INSERT half too (absent where an earlier version installed one trigger).
            *(
                f"DROP TRIGGER IF EXISTS {ident(name)} ON {qualified(self.table)}"
                for name in (insert_trigger(self.trigger), self.trigger)
            ),
            f"DROP FUNCTION IF EXISTS {qualified(function)}()",
            *(helper.drop_sql() for helper in helpers),
        ]

    def reverse(self) -> PhasedOperation:
        return self.definition if self.definition is not None else super().reverse()
