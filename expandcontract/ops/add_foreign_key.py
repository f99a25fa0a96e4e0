"""expand: add a FOREIGN KEY NOT VALID."""

from __future__ import annotations

from collections.abc import Sequence

from expandcontract.ops.add_check import _NotValidConstraint
from expandcontract.ops.base import register
from expandcontract.ops.sqltext import column_list, ident, qualified
from expandcontract.phases import Phase


@register
class AddForeignKey(_NotValidConstraint):
    """``op.expand_add_foreign_key("fk_orders_customer", "orders", ["customer_id"], "customers", ["id"])``.

    Added ``NOT VALID``: new writes are checked at once, existing rows are not scanned while
    both tables are locked. Validate it later with ``migrate_validate_constraint``.
    """

    name = "expand_add_foreign_key"
    phase = Phase.EXPAND

    def __init__(
        self,
        constraint: str,
        table: str,
        columns: Sequence[str],
        referred_table: str,
        referred_columns: Sequence[str],
        *,
        on_delete: str | None = None,
    ) -> None:
        self.constraint = constraint
        self.table = table
        self.columns = list(columns)
        self.referred_table = referred_table
        self.referred_columns = list(referred_columns)
        self.on_delete = on_delete

    def plan(self) -> list[str]:
        on_delete = f" ON DELETE {self.on_delete}" if self.on_delete else ""
        return [
            f"ALTER TABLE {qualified(self.table)} ADD CONSTRAINT {ident(self.constraint)} "
            f"FOREIGN KEY ({column_list(self.columns)}) REFERENCES "
            f"{qualified(self.referred_table)} ({column_list(self.referred_columns)})"
            f"{on_delete} NOT VALID"
        ]
