"""Rename a column without a moment where either release reads a missing column."""

from __future__ import annotations

from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import PhasedOperation
from expandcontract.ops.finalize_rename import FinalizeRename
from expandcontract.ops.patterns.base import Pattern
from expandcontract.ops.sqltext import TypeLike, bare, ident
from expandcontract.ops.sync_trigger import Direction, InstallSyncTrigger
from expandcontract.phases import Phase


class RenameColumn(Pattern):
    """``RenameColumn("customers", "mail", "email", "text")``.

    - expand: add the new column and a two-way copy trigger (the old release writes ``mail``,
      the new one ``email``; each write lands in both);
    - migrate: backfill the new column from the old one;
    - contract: ``contract_finalize_rename`` drops the trigger and the old column once every row
      agrees. Constraints and defaults of the old column are not copied: add them with their own
      operations.
    """

    name = "rename_column"

    def __init__(
        self, table: str, old: str, new: str, type_: TypeLike, *, time_budget: float = 0.2
    ) -> None:
        self.table = table
        self.old = old
        self.new = new
        self.type_ = type_
        self.base = f"{bare(table)}_{old}_to_{new}"
        self.time_budget = time_budget

    @property
    def pending(self) -> str:
        return f"t.{ident(self.new)} IS DISTINCT FROM t.{ident(self.old)}"

    def trigger(self) -> InstallSyncTrigger:
        return InstallSyncTrigger(
            f"{self.base}_sync",
            self.table,
            old_columns=[self.old],
            new_columns=[self.new],
            forward=Direction({self.new: f"NEW.{ident(self.old)}"}),
            backward=Direction({self.old: f"NEW.{ident(self.new)}"}),
        )

    def backfill(self) -> RunBackfill:
        return RunBackfill(
            self.base,
            self.table,
            {self.new: f"t.{ident(self.old)}"},
            pending=self.pending,
            time_budget=self.time_budget,
        )

    def operations(self, phase: Phase) -> list[PhasedOperation]:
        if phase is Phase.EXPAND:
            return [AddColumn(self.table, self.new, self.type_), self.trigger()]
        if phase is Phase.MIGRATE:
            return [self.backfill()]
        return [
            FinalizeRename(
                self.table,
                self.old,
                self.new,
                trigger=self.trigger(),
                after_backfill=self.backfill(),
                old_type=self.type_,
            )
        ]
