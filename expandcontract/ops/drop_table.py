"""contract: drop a table no running release uses any more."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import referencing_constraints, require, table_exists
from expandcontract.ops.sqltext import qualified
from expandcontract.phases import Phase


@register
class DropTable(PhasedOperation):
    """``op.contract_drop_table("legacy_addresses")``.

    Refuses unless the table exists and no other table's foreign key points at it (dropping
    those silently with CASCADE would change another table's behaviour). Columns given after
    the name make it reversible (the table comes back empty).
    """

    name = "contract_drop_table"
    phase = Phase.CONTRACT

    def __init__(self, table: str, *columns: sa.Column[Any], **table_kw: Any) -> None:
        self.table = table
        self.columns = columns
        self.table_kw = table_kw

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        require(table_exists(connection, self.table), f"{self.name} refused: no table {self.table}")
        referencing = referencing_constraints(connection, self.table)
        require(
            not referencing,
            f"{self.name} refused: {self.table} is still referenced by foreign keys "
            f"{', '.join(referencing)}; drop them first (contract_drop_constraint)",
        )

    def plan(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {qualified(self.table)}"]

    def reverse(self) -> PhasedOperation:
        if not self.columns:
            return super().reverse()
        from expandcontract.ops.create_table import CreateTable

        return CreateTable(self.table, *self.columns, **self.table_kw)
