"""expand: create a table (nothing uses it yet, so it breaks nobody)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable as CreateTableDDL

from expandcontract.ops.base import PhasedOperation, register
from expandcontract.ops.sqltext import DIALECT, bare, schema_of
from expandcontract.phases import Phase


@register
class CreateTable(PhasedOperation):
    """Create a table from SQLAlchemy columns, if it does not exist yet.

    ``op.expand_create_table("audit", sa.Column("id", sa.BigInteger, primary_key=True), ...)``.
    Foreign keys to existing tables are added separately with ``expand_add_foreign_key``
    (NOT VALID), which keeps the lock on the referenced table short.
    """

    name = "expand_create_table"
    phase = Phase.EXPAND

    def __init__(self, table: str, *columns: sa.Column[Any], **table_kw: Any) -> None:
        self.table = table
        self.columns = columns
        self.table_kw = table_kw

    def _definition(self) -> sa.Table:
        # Copies: a Column belongs to one Table, and plan() may be called more than once.
        return sa.Table(
            bare(self.table),
            sa.MetaData(),
            *(column._copy() for column in self.columns),
            schema=schema_of(self.table),
            **self.table_kw,
        )

    def plan(self) -> list[str]:
        ddl = CreateTableDDL(self._definition(), if_not_exists=True)
        return [str(ddl.compile(dialect=DIALECT)).strip()]

    def reverse(self) -> PhasedOperation:
        from expandcontract.ops.drop_table import DropTable

        return DropTable(self.table, *self.columns, **self.table_kw)
