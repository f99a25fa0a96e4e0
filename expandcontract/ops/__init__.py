"""Phase-typed operations on Alembic's ``op``, and multi-phase patterns.

Importing this package registers every operation (the env.py hook does it for you)::

    op.expand_add_column("customers", "street", sa.Text())
    op.migrate_backfill("street", "customers", {"street": "t.address"}, pending="t.street IS NULL")
    op.contract_drop_column("customers", "address", after_backfill="street")

:data:`REGISTRY` maps each ``op`` name to its operation class; every class has ``phase``,
``validate()``, ``plan()``, ``apply()`` and ``reverse()``. Patterns live in
:mod:`expandcontract.ops.patterns`.
"""

from __future__ import annotations

from expandcontract.ops.add_check import AddCheck
from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.add_foreign_key import AddForeignKey
from expandcontract.ops.add_unique import AddUnique
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import (
    REGISTRY,
    IrreversibleOperation,
    OperationError,
    PhasedOperation,
)
from expandcontract.ops.create_index import CreateIndex
from expandcontract.ops.create_table import CreateTable
from expandcontract.ops.drop_column import DropColumn
from expandcontract.ops.drop_constraint import DropConstraint
from expandcontract.ops.drop_index import DropIndex
from expandcontract.ops.drop_sync_trigger import DropSyncTrigger
from expandcontract.ops.drop_table import DropTable
from expandcontract.ops.finalize_rename import FinalizeRename
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.set_not_null import DropNotNull, SetNotNull
from expandcontract.ops.sync_trigger import Direction, InstallSyncTrigger
from expandcontract.ops.validate_constraint import ValidateConstraint

__all__ = [
    "REGISTRY",
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddUnique",
    "CreateIndex",
    "CreateTable",
    "Direction",
    "DropColumn",
    "DropConstraint",
    "DropIndex",
    "DropNotNull",
    "DropSyncTrigger",
    "DropTable",
    "FinalizeRename",
    "InstallSyncTrigger",
    "IrreversibleOperation",
    "OperationError",
    "PhasedOperation",
    "RunBackfill",
    "SetNotNull",
    "SqlFunction",
    "ValidateConstraint",
]
