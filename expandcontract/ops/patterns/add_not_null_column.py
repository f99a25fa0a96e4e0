"""Add a NOT NULL column that the running release does not know how to fill."""

from __future__ import annotations

from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import PhasedOperation
from expandcontract.ops.drop_sync_trigger import DropSyncTrigger
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.patterns.base import Pattern
from expandcontract.ops.set_not_null import SetNotNull
from expandcontract.ops.sqltext import TypeLike, bare, ident, qualified, sibling, type_sql
from expandcontract.ops.sync_trigger import Direction, InstallSyncTrigger
from expandcontract.phases import Phase


class AddNotNullColumn(Pattern):
    """``AddNotNullColumn("customers", "email_domain", "text", fill="split_part(r.email, '@', 2)")``.

    ``fill`` is an SQL expression over ``r``, the row; it becomes one function used by both the
    fill trigger and the backfill.

    - expand: add the column nullable, and a trigger filling it on every write that leaves it
      NULL (the old release does not know the column);
    - migrate: backfill existing rows;
    - contract: ``contract_set_not_null`` (validated check, no long exclusive lock; refused while
      a NULL remains), then drop the fill trigger.
    """

    name = "add_not_null_column"

    def __init__(
        self, table: str, column: str, type_: TypeLike, *, fill: str, time_budget: float = 0.2
    ) -> None:
        self.table = table
        self.column = column
        self.type_ = type_
        self.base = f"{bare(table)}_{column}_fill"
        self.time_budget = time_budget
        self.fill = SqlFunction(
            sibling(table, self.base),
            f"r {qualified(table)}",
            type_sql(type_),
            f"SELECT {fill}",
            volatility="STABLE",
        )

    @property
    def pending(self) -> str:
        return f"t.{ident(self.column)} IS NULL"

    def trigger(self) -> InstallSyncTrigger:
        return InstallSyncTrigger(
            f"{self.base}_sync",
            self.table,
            old_columns=[],
            new_columns=[self.column],
            forward=Direction({self.column: f"{qualified(self.fill.name)}(NEW)"}),
            functions=[self.fill],
        )

    def backfill(self) -> RunBackfill:
        return RunBackfill(
            self.base,
            self.table,
            {self.column: f"{qualified(self.fill.name)}(t)"},
            pending=self.pending,
            time_budget=self.time_budget,
        )

    def operations(self, phase: Phase) -> list[PhasedOperation]:
        if phase is Phase.EXPAND:
            return [AddColumn(self.table, self.column, self.type_), self.trigger()]
        if phase is Phase.MIGRATE:
            return [self.backfill()]
        return [
            SetNotNull(self.table, self.column),
            DropSyncTrigger(
                self.trigger().trigger,
                self.table,
                after_backfill=self.backfill(),
                definition=self.trigger(),
            ),
        ]
