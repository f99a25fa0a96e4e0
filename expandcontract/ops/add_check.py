"""expand: add a CHECK constraint NOT VALID (new writes are checked; old rows later)."""

from __future__ import annotations

from alembic.operations import Operations

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import constraint_exists
from expandcontract.ops.sqltext import ident, qualified
from expandcontract.phases import Phase


class _NotValidConstraint(PhasedOperation):
    """Shared by the NOT VALID constraint operations: skip when a re-run finds it in place."""

    table: str
    constraint: str

    def apply(self, operations: Operations) -> None:
        connection = live_connection(operations.get_context())
        if connection is not None and constraint_exists(connection, self.table, self.constraint):
            return
        super().apply(operations)

    def reverse(self) -> PhasedOperation:
        from expandcontract.ops.drop_constraint import DropConstraint

        return DropConstraint(self.constraint, self.table, restore=self)


@register
class AddCheck(_NotValidConstraint):
    """``op.expand_add_check("ck_customers_zip", "customers", "zip ~ '^[0-9]{5}$'")``.

    Added ``NOT VALID``: only a brief lock, no scan of the table. Validate it in a migrate
    revision with ``migrate_validate_constraint`` once old rows are fixed.
    """

    name = "expand_add_check"
    phase = Phase.EXPAND

    def __init__(self, constraint: str, table: str, condition: str) -> None:
        self.constraint = constraint
        self.table = table
        self.condition = condition

    def plan(self) -> list[str]:
        return [
            f"ALTER TABLE {qualified(self.table)} ADD CONSTRAINT {ident(self.constraint)} "
            f"CHECK ({self.condition}) NOT VALID"
        ]
