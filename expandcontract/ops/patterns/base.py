"""A pattern: one logical change, described once, emitting its expand, migrate and contract parts."""

from __future__ import annotations

from typing import Any, ClassVar

from expandcontract.ops.base import PhasedOperation
from expandcontract.phases import Phase


class Pattern:
    """Subclasses describe the operations of each phase; revisions run them::

        # in the expand revision        # in the migrate revision     # in the contract revision
        def upgrade():                  def upgrade():                def upgrade():
            CHANGE.expand(op)               CHANGE.migrate(op)            CHANGE.contract(op)
        def downgrade():                def downgrade():              def downgrade():
            CHANGE.revert(op, "expand")     CHANGE.revert(op, "migrate")  CHANGE.revert(op, "contract")

    Each operation is still phase-checked, so ``CHANGE.contract(op)`` in an expand revision fails.
    """

    name: ClassVar[str] = ""

    def operations(self, phase: Phase) -> list[PhasedOperation]:
        """The operations of ``phase``, in the order they run."""
        raise NotImplementedError

    def run(self, op: Any, phase: Phase | str) -> None:
        for operation in self.operations(Phase.parse(str(phase))):
            op.invoke(operation)

    def expand(self, op: Any) -> None:
        self.run(op, Phase.EXPAND)

    def migrate(self, op: Any) -> None:
        self.run(op, Phase.MIGRATE)

    def contract(self, op: Any) -> None:
        self.run(op, Phase.CONTRACT)

    def revert(self, op: Any, phase: Phase | str) -> None:
        """Undo ``phase`` (for the revision's ``downgrade()``)."""
        for operation in reversed(self.operations(Phase.parse(str(phase)))):
            op.invoke(operation.reverse())
