"""Backfill the split address columns from customers.address, in short batches.

Phase: migrate (root of the migrate branch)
Revision ID: 0003_backfill_address
Revises:
Depends on: 0002_split_address
Create Date: 2026-11-26

Runs the expand revision's parse function over every row not split yet (rows blue wrote after
the expand were already split by the sync trigger), keyset batch by batch, resumable; rows that
cannot be parsed are quarantined with the reason and left unchanged.
"""

from collections.abc import Sequence

from alembic import op

from expandcontract.ops.patterns import from_revision

# revision identifiers, used by Alembic.
revision: str = "0003_backfill_address"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("migrate",)
depends_on: str | Sequence[str] | None = "0002_split_address"

# The split exactly as the expand revision defines it: one parse and one compose definition.
ADDRESS = from_revision(__file__, "0002_split_address", "ADDRESS")


def upgrade() -> None:
    ADDRESS.migrate(op)


def downgrade() -> None:
    ADDRESS.revert(op, "migrate")
