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

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_contract_address"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("contract",)
depends_on: str | Sequence[str] | None = "0003_backfill_address"

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
    _address_split().contract(op)


def downgrade() -> None:
    _address_split().revert(op, "contract")
