"""contract: drop a column no running release uses any more."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import column_exists, require_column
from expandcontract.ops.readiness import BackfillRef, require_converted
from expandcontract.ops.resume import resumed
from expandcontract.ops.sqltext import TypeLike, ident, qualified
from expandcontract.phases import Phase


@register
class DropColumn(PhasedOperation):
    """``op.contract_drop_column("customers", "address", after_backfill=SPLIT_BACKFILL)``.

    Refuses unless the column exists and, with ``after_backfill`` (the ``migrate_backfill``
    operation or its spec, checked on the live rows; or just its name, checked on its persisted
    state), that backfill is complete and left no unresolved quarantined row (whose only copy of
    the data is this column).
    ``type_`` makes it reversible (the column comes back empty and nullable).
    """

    name = "contract_drop_column"
    phase = Phase.CONTRACT

    def __init__(
        self,
        table: str,
        column: str,
        *,
        after_backfill: BackfillRef | None = None,
        type_: TypeLike | None = None,
    ) -> None:
        self.table = table
        self.column = column
        self.after_backfill = after_backfill
        self.type_ = type_

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        if not column_exists(connection, self.table, self.column) and resumed(context):
            return  # dropped by the interrupted run; IF EXISTS makes this run a no-op
        require_column(connection, self.name, self.table, self.column)
        require_converted(
            connection,
            self.table,
            backfill=self.after_backfill,
            operation=f"{self.name} {self.table}.{self.column}",
        )

    def plan(self) -> list[str]:
        return [f"ALTER TABLE {qualified(self.table)} DROP COLUMN IF EXISTS {ident(self.column)}"]

    def reverse(self) -> PhasedOperation:
        if self.type_ is None:
            return super().reverse()
        from expandcontract.ops.add_column import AddColumn

        return AddColumn(self.table, self.column, self.type_)
