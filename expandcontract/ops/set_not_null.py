"""contract: SET NOT NULL without scanning the table under an exclusive lock."""

from __future__ import annotations

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register, run_sql
from expandcontract.ops.catalog import constraint_exists, count_rows, require, require_column
from expandcontract.ops.sqltext import ident, qualified, short_name
from expandcontract.phases import Phase


@register
class SetNotNull(PhasedOperation):
    """``op.contract_set_not_null("customers", "street")``: NOT NULL via a validated CHECK.

    A plain ``SET NOT NULL`` scans the whole table while holding an ACCESS EXCLUSIVE lock. Here,
    each step is its own short statement: add ``CHECK (col IS NOT NULL) NOT VALID`` (brief lock),
    ``VALIDATE`` it (scan under a lock that lets reads and writes through), ``SET NOT NULL``
    (PostgreSQL proves it from the valid check: no scan), drop the helper check. Refuses while any
    row still holds NULL, naming how many.
    """

    name = "contract_set_not_null"
    phase = Phase.CONTRACT
    autocommit = True

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column

    @property
    def check_name(self) -> str:
        return short_name(self.table, self.column, suffix="not_null")

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        require_column(connection, self.name, self.table, self.column)
        nulls = count_rows(connection, self.table, f"t.{ident(self.column)} IS NULL")
        require(
            nulls == 0,
            f"{self.name} refused: {nulls} row(s) of {self.table} have {self.column} NULL; "
            "backfill them first",
        )

    def plan(self) -> list[str]:
        table, column, check = qualified(self.table), ident(self.column), ident(self.check_name)
        return [
            f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID",
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}",
            f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}",
        ]

    def apply(self, operations: Operations) -> None:
        context = operations.get_context()
        add, *rest = self.plan()
        with context.autocommit_block():
            connection = live_connection(context)
            # A run interrupted after the first step left the check behind: carry on from it.
            if connection is None or not constraint_exists(connection, self.table, self.check_name):
                run_sql(operations, add)
            for statement in rest:
                run_sql(operations, statement)

    def reverse(self) -> PhasedOperation:
        return DropNotNull(self.table, self.column)


@register
class DropNotNull(PhasedOperation):
    """``op.expand_drop_not_null("customers", "phone")``: relaxing a column breaks no release."""

    name = "expand_drop_not_null"
    phase = Phase.EXPAND

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column

    def plan(self) -> list[str]:
        return [
            f"ALTER TABLE {qualified(self.table)} ALTER COLUMN {ident(self.column)} DROP NOT NULL"
        ]

    def reverse(self) -> PhasedOperation:
        return SetNotNull(self.table, self.column)
