"""expand: add a column both releases can live with."""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import OperationError, PhasedOperation, register
from expandcontract.ops.sqltext import TypeLike, ident, literal, qualified, type_sql
from expandcontract.phases import Phase


class _NoDefault:
    """The column gets no DEFAULT clause (``None`` would mean DEFAULT NULL)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


_NO_DEFAULT: Any = _NoDefault()


@register
class AddColumn(PhasedOperation):
    """Add a nullable column, or a NOT NULL column with a constant default.

    ``op.expand_add_column("customers", "street", sa.Text())`` or
    ``op.expand_add_column("customers", "active", sa.Boolean(), default=True, nullable=False)``.
    A constant default is stored in the catalog (no table rewrite); the old release keeps
    inserting rows without the column.
    """

    name = "expand_add_column"
    phase = Phase.EXPAND

    def __init__(
        self,
        table: str,
        column: str,
        type_: TypeLike,
        *,
        default: Any = _NO_DEFAULT,
        nullable: bool = True,
    ) -> None:
        self.table = table
        self.column = column
        self.type_ = type_
        self.default = default
        self.nullable = nullable

    def validate(self, context: MigrationContext) -> None:
        if not self.nullable and self.default is _NO_DEFAULT:
            raise OperationError(
                f"{self.name}: {self.table}.{self.column} is NOT NULL without a default, so "
                "every insert of the running release would fail; give it a constant default, "
                "or use the AddNotNullColumn pattern (fill trigger, backfill, then "
                "contract_set_not_null)"
            )
        if self.default is None and not self.nullable:
            raise OperationError(f"{self.name}: a NULL default contradicts NOT NULL")

    def plan(self) -> list[str]:
        parts = [ident(self.column), type_sql(self.type_)]
        if self.default is not _NO_DEFAULT and self.default is not None:
            parts.append(f"DEFAULT {literal(self.default)}")
        if not self.nullable:
            parts.append("NOT NULL")
        return [f"ALTER TABLE {qualified(self.table)} ADD COLUMN IF NOT EXISTS {' '.join(parts)}"]

    def reverse(self) -> PhasedOperation:
        from expandcontract.ops.drop_column import DropColumn

        return DropColumn(self.table, self.column, type_=self.type_)
