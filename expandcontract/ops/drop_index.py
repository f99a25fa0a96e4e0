"""contract: drop an index CONCURRENTLY (never blocks the app's reads and writes)."""

from __future__ import annotations

from collections.abc import Sequence

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import index_state, require
from expandcontract.ops.resume import resumed
from expandcontract.ops.sqltext import qualified, sibling
from expandcontract.phases import Phase


@register
class DropIndex(PhasedOperation):
    """``op.contract_drop_index("ix_customers_email", "customers")``: DROP INDEX CONCURRENTLY.

    Refuses when the index does not exist (the schema is not what the revision expects).
    Give ``columns`` (and ``unique``/``where``) to make it reversible.
    """

    name = "contract_drop_index"
    phase = Phase.CONTRACT
    autocommit = True

    def __init__(
        self,
        index: str,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        unique: bool = False,
        where: str | None = None,
    ) -> None:
        self.index = index
        self.table = table
        self.columns = list(columns) if columns is not None else None
        self.unique = unique
        self.where = where

    @property
    def _qualified(self) -> str:
        return sibling(self.table, self.index)

    def validate(self, context: MigrationContext) -> None:
        connection = live_connection(context)
        if connection is None:
            return
        if index_state(connection, self._qualified) is None and resumed(context):
            return  # dropped by the interrupted run; IF EXISTS makes this run a no-op
        require(
            index_state(connection, self._qualified) is not None,
            f"{self.name} refused: index {self.index} does not exist",
        )

    def plan(self) -> list[str]:
        return [f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(self._qualified)}"]

    def reverse(self) -> PhasedOperation:
        if self.columns is None:
            return super().reverse()
        from expandcontract.ops.create_index import CreateIndex

        return CreateIndex(
            self.index, self.table, self.columns, unique=self.unique, where=self.where
        )
