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

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003_backfill_address"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("migrate",)
depends_on: str | Sequence[str] | None = "0002_split_address"

EXPAND = "0002_split_address"


def _address_split() -> Any:
    """The split exactly as the expand revision defines it: one parse and one compose definition.

    Loaded from the revision file itself (not from the app), so this revision keeps meaning
    what it meant when it was written.
    """
    path = Path(__file__).with_name(f"{EXPAND}.py")
    spec = importlib.util.spec_from_file_location(f"_revision_{EXPAND}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ADDRESS


def upgrade() -> None:
    _address_split().migrate(op)


def downgrade() -> None:
    _address_split().revert(op, "migrate")
