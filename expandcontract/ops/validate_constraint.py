"""migrate: validate a constraint that was added NOT VALID."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ops.base import Noop, PhasedOperation, live_connection, register
from expandcontract.ops.catalog import require_constraint
from expandcontract.ops.sqltext import ident, qualified
from expandcontract.phases import Phase


@register
class ValidateConstraint(PhasedOperation):
    """``op.migrate_validate_constraint("ck_customers_zip", "customers")``.

    ``VALIDATE CONSTRAINT`` scans the table under a lock that lets reads and writes through; it
    runs in its own autocommit step with no statement timeout, so it holds nothing else.
    """

    name = "migrate_validate_constraint"
    phase = Phase.MIGRATE
    autocommit = True

    def __init__(self, constraint: str, table: str) -> None:
        self.constraint = constraint
        self.table = table

    def validate(self, context: MigrationContext) -> None:
        require_constraint(live_connection(context), self.name, self.table, self.constraint)

    def plan(self) -> list[str]:
        return [f"ALTER TABLE {qualified(self.table)} VALIDATE CONSTRAINT {ident(self.constraint)}"]

    def reverse(self) -> PhasedOperation:
        return Noop(self.name)
