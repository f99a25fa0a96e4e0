"""The lifecycle every phase-typed operation shares, and the one executor that runs them.

An operation is a plain description (like Alembic's ``ops.py``): its arguments, its ``phase``,
the SQL it would run (``plan()``) and the operation that undoes it (``reverse()``). Nothing in
it touches a database, so the linter can collect operations offline.

Running one goes through a single executor registered with Alembic (like ``toimpl.py``):

1. refuse when the running revision is on another phase branch (:class:`PhaseViolation`);
2. ``validate(context)``: check the arguments and, online, the live data (contract operations
   refuse with :class:`PreconditionFailed` while the data is not ready);
3. ``apply(operations)``: run the plan through ``op.execute``, so phase policing and the
   zero-stall DDL executor see every statement.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from alembic.operations import MigrateOperation, Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from expandcontract.errors import ExpandContractError, PhaseViolation
from expandcontract.phases import Phase
from expandcontract.runtime.state import current_step, run_state


class OperationError(ExpandContractError):
    """An operation was called with arguments that cannot work (for example NOT NULL, no default)."""


class IrreversibleOperation(OperationError):
    """The operation was not given what it needs to be undone (for example the dropped type)."""


class PhasedOperation(MigrateOperation):
    """Base class: a schema change that belongs to exactly one phase."""

    #: The name on Alembic's ``op`` (``op.expand_add_column(...)``).
    name: ClassVar[str] = ""
    #: The phase branch this operation may run on.
    phase: ClassVar[Phase | None] = None
    #: True when the plan must run outside a transaction (``CREATE INDEX CONCURRENTLY``).
    autocommit: ClassVar[bool] = False

    @classmethod
    def run(cls, operations: Operations, *args: Any, **kwargs: Any) -> Any:
        """Describe the operation from the arguments of ``op.<name>(...)`` and run it."""
        return operations.invoke(cls(*args, **kwargs))

    def validate(self, context: MigrationContext) -> None:
        """Refuse bad arguments; online, check the live data. Default: nothing to check."""

    def plan(self) -> list[str]:
        """The SQL statements this operation runs, in order."""
        return []

    def apply(self, operations: Operations) -> None:
        """Run the plan (in an autocommit block when the operation needs one)."""
        statements = self.plan()
        if not statements:
            return
        if self.autocommit:
            with operations.get_context().autocommit_block():
                for statement in statements:
                    run_sql(operations, statement)
        else:
            for statement in statements:
                run_sql(operations, statement)

    def reverse(self) -> PhasedOperation:
        """The operation that undoes this one (used by downgrades)."""
        raise IrreversibleOperation(f"{self.name} cannot be reversed")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Noop(PhasedOperation):
    """Nothing to undo (a backfill's data stays; reverting the expand removes its columns)."""

    name = "noop"

    def __init__(self, undoes: str) -> None:
        self.undoes = undoes


class Group(PhasedOperation):
    """Several operations run in order (the reverse of a compound contract step)."""

    name = "group"

    def __init__(self, operations: Sequence[PhasedOperation]) -> None:
        self.operations = list(operations)

    def apply(self, operations: Operations) -> None:
        for operation in self.operations:
            operations.invoke(operation)

    def reverse(self) -> PhasedOperation:
        return Group([operation.reverse() for operation in reversed(self.operations)])


REGISTRY: dict[str, type[PhasedOperation]] = {}


def register(cls: type[PhasedOperation]) -> type[PhasedOperation]:
    """Make ``cls`` available as ``op.<cls.name>(...)`` and list it in :data:`REGISTRY`."""
    if not cls.name or cls.phase is None:
        raise TypeError(f"{cls.__name__} needs a name and a phase")
    Operations.register_operation(cls.name, "run")(cls)
    method = getattr(Operations, cls.name)
    method.__doc__ = cls.__doc__
    # Alembic generates ``(self, *args, **kwargs)``; show the operation's real parameters.
    method.__signature__ = inspect.signature(cls.__init__)
    REGISTRY[cls.name] = cls
    return cls


@Operations.implementation_for(PhasedOperation)
def execute(operations: Operations, operation: PhasedOperation) -> None:
    """The one executor of every phase-typed operation."""
    context = operations.get_context()
    check_phase(operation, context)
    operation.validate(context)
    operation.apply(operations)


def check_phase(operation: PhasedOperation, context: MigrationContext) -> None:
    """Refuse an operation used in an upgrade of a revision on another phase branch."""
    step = current_step(context)
    # Outside an expandcontract run (plain rendering) there is no phase to police; downgrades
    # run reverses of other phases' operations by design.
    if step is None or not step.is_upgrade or operation.phase is None:
        return
    if step.phase is not operation.phase:
        where = f"a {step.phase} revision" if step.phase else "a revision on no phase branch"
        raise PhaseViolation(
            f"operation {operation.name} is a {operation.phase} operation, but revision "
            f"{step.revision} is {where}; move it to a {operation.phase} revision",
            revision=step.revision,
            phase=str(step.phase) if step.phase else None,
        )


def run_sql(operations: Operations, statement: str) -> None:
    """Execute one statement of a plan exactly as written.

    Through ``op.execute`` (so policing and the zero-stall executor see it), with colons escaped
    so ``text()`` finds no bind parameters in function bodies; offline the statement is written
    verbatim, because compiling it as ``text()`` would double every ``%`` in the script.
    """
    context = operations.get_context()
    if context.as_sql:
        context.impl.static_output(statement.strip() + context.impl.command_terminator)
        return
    operations.execute(sa.text(statement.replace(":", "\\:")))


def live_connection(context: MigrationContext) -> Connection | None:
    """The connection to check live data on, or None when rendering SQL offline."""
    if context.as_sql:
        return None
    return context.connection


@contextmanager
def internal(context: MigrationContext) -> Iterator[None]:
    """Statements expandcontract runs on its own behalf (repairs), not the revision's."""
    state = run_state(context)
    if state is None:
        yield
        return
    state.internal += 1
    try:
        yield
    finally:
        state.internal -= 1
