"""Change a column's type through a new column, converting live writes and old rows alike."""

from __future__ import annotations

from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import PhasedOperation
from expandcontract.ops.finalize_rename import FinalizeRename
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.patterns.base import Pattern
from expandcontract.ops.sqltext import TypeLike, bare, ident, qualified, sibling, type_sql
from expandcontract.ops.sync_trigger import Direction, InstallSyncTrigger
from expandcontract.phases import Phase


class ChangeColumnType(Pattern):
    """``ChangeColumnType("orders", "total", "total_cents", "bigint", old_type="text",
    using="round(value::numeric * 100)::bigint")``.

    ``ALTER COLUMN TYPE`` rewrites the table under an exclusive lock and breaks the release that
    expects the old type. Instead:

    - expand: add ``new_column`` with the new type, a conversion function (``using``, an SQL
      expression of ``value``; a value it cannot convert is rejected with the error text, never
      failing the write) and a two-way sync trigger (``back`` converts new writes back; a value
      that does not fit the old type leaves the old column NULL);
    - migrate: backfill, quarantining values that cannot be converted;
    - contract: drop the trigger, the functions and the old column (refused while any row with an
      old value has no new one).
    """

    name = "change_column_type"

    def __init__(
        self,
        table: str,
        column: str,
        new_column: str,
        new_type: TypeLike,
        *,
        old_type: TypeLike,
        using: str | None = None,
        back: str | None = None,
        time_budget: float = 0.2,
    ) -> None:
        self.table = table
        self.column = column
        self.new_column = new_column
        self.new_type = new_type
        self.old_type = old_type
        self.base = f"{bare(table)}_{column}_retype"
        self.time_budget = time_budget
        old_sql, new_sql = type_sql(old_type), type_sql(new_type)
        self.convert = SqlFunction(
            sibling(table, f"{self.base}_convert"),
            f"value {old_sql}",
            f"TABLE(converted {new_sql}, reject_reason text)",
            f"""BEGIN
    converted := {using or f"value::{new_sql}"};
    reject_reason := NULL;
    RETURN NEXT;
EXCEPTION WHEN others THEN
    converted := NULL;
    reject_reason := SQLERRM;
    RETURN NEXT;
END""",
            language="plpgsql",
            volatility="STABLE",
        )
        self.back = SqlFunction(
            sibling(table, f"{self.base}_back"),
            f"value {new_sql}",
            old_sql,
            f"""BEGIN
    RETURN {back or f"value::{old_sql}"};
EXCEPTION WHEN others THEN
    RETURN NULL;
END""",
            language="plpgsql",
            volatility="STABLE",
        )

    @property
    def pending(self) -> str:
        return f"t.{ident(self.column)} IS NOT NULL AND t.{ident(self.new_column)} IS NULL"

    def trigger(self) -> InstallSyncTrigger:
        return InstallSyncTrigger(
            f"{self.base}_sync",
            self.table,
            old_columns=[self.column],
            new_columns=[self.new_column],
            forward=Direction(
                {self.new_column: "c.converted"},
                source=f"{qualified(self.convert.name)}(NEW.{ident(self.column)}) AS c",
                reject_reason="c.reject_reason",
            ),
            backward=Direction(
                {self.column: f"{qualified(self.back.name)}(NEW.{ident(self.new_column)})"}
            ),
            functions=[self.convert, self.back],
        )

    def backfill(self) -> RunBackfill:
        return RunBackfill(
            self.base,
            self.table,
            {self.new_column: "c.converted"},
            pending=self.pending,
            reject_reason="c.reject_reason",
            original=f"t.{ident(self.column)}::text",
            source=f"LATERAL {qualified(self.convert.name)}(t.{ident(self.column)}) AS c",
            time_budget=self.time_budget,
        )

    def operations(self, phase: Phase) -> list[PhasedOperation]:
        if phase is Phase.EXPAND:
            return [AddColumn(self.table, self.new_column, self.new_type), self.trigger()]
        if phase is Phase.MIGRATE:
            return [self.backfill()]
        return [
            FinalizeRename(
                self.table,
                self.column,
                self.new_column,
                trigger=self.trigger(),
                after_backfill=self.backfill(),
                old_type=self.old_type,
                restore=f"{qualified(self.back.name)}(t.{ident(self.new_column)})",
            )
        ]
