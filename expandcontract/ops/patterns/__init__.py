"""Multi-phase patterns: one logical change, its expand, migrate and contract parts.

:data:`PATTERNS` maps each pattern's name to its class.
"""

from __future__ import annotations

from expandcontract.ops.patterns.add_not_null_column import AddNotNullColumn
from expandcontract.ops.patterns.base import Pattern
from expandcontract.ops.patterns.change_column_type import ChangeColumnType
from expandcontract.ops.patterns.loading import from_revision
from expandcontract.ops.patterns.rename_column import RenameColumn
from expandcontract.ops.patterns.split_column import SplitColumn

PATTERNS: dict[str, type[Pattern]] = {
    cls.name: cls for cls in (SplitColumn, RenameColumn, ChangeColumnType, AddNotNullColumn)
}

__all__ = [
    "PATTERNS",
    "AddNotNullColumn",
    "ChangeColumnType",
    "Pattern",
    "RenameColumn",
    "SplitColumn",
    "from_revision",
]
