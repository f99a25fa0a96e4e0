"""contract: drop a constraint."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import PhasedOperation, live_connection, register
from expandcontract.ops.catalog import require_constraint
from expandcontract.ops.sqltext import ident, qualified
from expandcontract.phases import Phase


@register
class DropConstraint(PhasedOperation):
    """``op.contract_drop_constraint("ck_customers_zip", "customers")``.

    Refuses when the constraint does not exist. ``restore`` (the operation that added it) makes
    it reversible.
    """

    name = "contract_drop_constraint"
    phase = Phase.CONTRACT

    def __init__(
        self, constraint: str, table: str, *, restore: PhasedOperation | None = None
    ) -> None:
        self.constraint = constraint
        self.table = table
        self.restore = restore

    def validate(self, context: MigrationContext) -> None:
        require_constraint(live_connection(context), self.name, self.table, self.constraint)

    def plan(self) -> list[str]:
        return [
            f"ALTER TABLE {qualified(self.table)} DROP CONSTRAINT IF EXISTS {ident(self.constraint)}"
        ]

    def reverse(self) -> PhasedOperation:
        return self.restore if self.restore is not None else super().reverse()
