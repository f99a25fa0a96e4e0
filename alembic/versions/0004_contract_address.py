"""Drop the address sync trigger and customers.address: green no longer needs them.

Phase: contract (root of the contract branch)
Revision ID: 0004_contract_address
Revises:
Depends on: 0003_backfill_address
Create Date: 2026-11-26

The contract guard lets this run only after green was marked stable on the expanded schema and
its soak has passed; the operations themselves refuse while the backfill is incomplete or a
quarantined row is unresolved, because dropping ``address`` would lose those values.
"""

from collections.abc import Sequence

from alembic import op

from expandcontract.ops.patterns import from_revision

# revision identifiers, used by Alembic.
revision: str = "0004_contract_address"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("contract",)
depends_on: str | Sequence[str] | None = "0003_backfill_address"

# The split exactly as the expand revision defines it: one parse and one compose definition.
ADDRESS = from_revision(__file__, "0002_split_address", "ADDRESS")


def upgrade() -> None:
    ADDRESS.contract(op)


def downgrade() -> None:
    ADDRESS.revert(op, "contract")
