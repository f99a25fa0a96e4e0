"""expand: add a UNIQUE constraint from an index built CONCURRENTLY."""

from __future__ import annotations

from collections.abc import Sequence

from alembic.operations import Operations

from expandcontract.ops.add_check import _NotValidConstraint
from expandcontract.ops.base import live_connection, register, run_sql
from expandcontract.ops.catalog import constraint_exists
from expandcontract.ops.create_index import build_concurrently, index_sql
from expandcontract.ops.sqltext import ident, qualified
from expandcontract.phases import Phase


@register
class AddUnique(_NotValidConstraint):
    """``op.expand_add_unique("uq_customers_email", "customers", ["email"])``.

    ``ADD CONSTRAINT ... UNIQUE`` would build its index under a lock that blocks writes for the
    whole build. Instead the unique index is built ``CONCURRENTLY`` (an INVALID leftover of a
    failed build is rebuilt) and then attached with ``UNIQUE USING INDEX``, a catalog change.
    """

    name = "expand_add_unique"
    phase = Phase.EXPAND
    autocommit = True

    def __init__(self, constraint: str, table: str, columns: Sequence[str]) -> None:
        self.constraint = constraint
        self.table = table
        self.columns = list(columns)

    def plan(self) -> list[str]:
        return [
            index_sql(self.constraint, self.table, self.columns, unique=True),
            f"ALTER TABLE {qualified(self.table)} ADD CONSTRAINT {ident(self.constraint)} "
            f"UNIQUE USING INDEX {ident(self.constraint)}",
        ]

    def apply(self, operations: Operations) -> None:
        context = operations.get_context()
        connection = live_connection(context)
        if connection is not None and constraint_exists(connection, self.table, self.constraint):
            return
        build, attach = self.plan()
        with context.autocommit_block():
            build_concurrently(operations, self.constraint, self.table, build)
            run_sql(operations, attach)
