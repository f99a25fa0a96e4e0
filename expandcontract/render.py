"""Render a revision's SQL offline (PostgreSQL dialect), without a database: one renderer.

The contract guard (which removals does a pending contract make?) and the linter (what does
each revision do, and on which line?) both render through :class:`Renderer`, so they can never
disagree about what a revision emits.

A revision runs the way ``alembic upgrade --sql`` runs it: against an offline (``as_sql``)
migration context, with Alembic's ``context`` proxy installed (``context.is_offline_mode()``
is true, ``context.get_context()`` works) and ``op`` bound to that context. ``Operations.invoke``
is wrapped so every statement is attributed to the innermost operation being invoked and to the
line of the revision file on the call stack. ``COMMIT``/``BEGIN`` not written by raw
``op.execute()`` SQL come from ``autocommit_block()`` and mark statements that run outside the
revision's transaction. Whatever the revision prints goes to stderr: the caller's stdout may be
a JSON document.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from alembic import context as alembic_context
from alembic import op as alembic_op
from alembic.config import Config
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory

from expandcontract.errors import ExpandContractError
from expandcontract.phases import Phase, phase_of
from expandcontract.runtime.state import RunState, attach

# Register the phase-typed operations on ``op`` so revisions using them render; without them
# (a broken install), such revisions fail to render instead of stopping the caller.
with contextlib.suppress(ImportError):
    import expandcontract.ops  # noqa: F401

# Parameter names under which a revision's upgrade()/downgrade() receives the operations object.
_OP_PARAMETERS = frozenset({"op", "operations", "ops"})


class RenderError(ExpandContractError):
    """A revision that cannot be rendered without a database (it queries through get_bind())."""


class RenderFailed(RenderError):
    """The revision raised while rendering; ``line`` is where, in the revision file."""

    def __init__(
        self,
        message: str,
        line: int | None,
        *,
        needs_arguments: bool = False,
        stood_in_arguments: bool = False,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.needs_arguments = needs_arguments  # refused: upgrade() wants what env.py supplies
        self.stood_in_arguments = stood_in_arguments  # it got stand-ins for those, and failed


@dataclass(frozen=True)
class Emitted:
    """One piece of SQL a revision wrote, and where it came from."""

    sql: str
    line: int | None  # line of the revision file that emitted it
    in_transaction: bool  # False between autocommit_block()'s COMMIT and BEGIN
    raw: bool  # op.execute() text rather than a typed operation
    operation: Any  # the outermost operation object being invoked (None outside one)


def offline_context(buffer: io.StringIO) -> MigrationContext:
    return MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )


class _Recorder:
    """Collects what one revision function writes."""

    def __init__(self, path: Path) -> None:
        self.filename = str(path)
        self.emitted: list[Emitted] = []
        self.op_stack: list[Any] = []
        self.in_transaction = True

    def source_line(self) -> int | None:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def output(self, text: str) -> None:
        sql = text.strip()
        if not sql:
            return
        outer = self.op_stack[0] if self.op_stack else None
        raw = isinstance(outer, alembic_ops.ExecuteSQLOp)
        bare = sql.rstrip(";").strip().upper()
        if not raw and bare in ("COMMIT", "BEGIN"):
            # autocommit_block(): what comes between runs outside the revision's transaction.
            self.in_transaction = bare == "BEGIN"
            return
        self.emitted.append(Emitted(sql, self.source_line(), self.in_transaction, raw, outer))


def _record_invocations(operations: Operations, recorder: _Recorder) -> None:
    """Wrap this instance's ``invoke`` (every op's choke point) to track the running operation."""
    original = operations.invoke

    def invoke(operation: Any) -> Any:
        recorder.op_stack.append(operation)
        try:
            return original(operation)
        finally:
            recorder.op_stack.pop()

    operations.invoke = invoke  # type: ignore[method-assign]


def _arguments(
    function: Callable[..., Any],
    operations: Operations,
    stand_in: Callable[[str], Any] | None,
) -> list[Any] | None:
    """Positional arguments for ``function``: ``op`` where it asks for it.

    Some projects' env.py call ``upgrade(op, tables, tester)``; what those extra objects are
    only their env.py knows. With a ``stand_in`` factory they get stand-ins (the caller must
    check the output); without one, None: such a revision cannot be rendered here.
    """
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    args: list[Any] = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in _OP_PARAMETERS:
            args.append(operations)
        elif parameter.default is parameter.empty:
            if stand_in is None:
                return None
            args.append(stand_in(parameter.name))
    return args


class Renderer:
    """Renders revisions one after another through one offline migration context.

    Building a MigrationContext is the expensive part of rendering a small revision (it builds
    the version table's metadata), so one is shared by every revision of a run.
    """

    def __init__(
        self,
        config: Config | None = None,
        script: ScriptDirectory | None = None,
        argument_stand_in: Callable[[str], Any] | None = None,
    ):
        # argument_stand_in(name): an object passed for an upgrade() parameter other than op
        # (the linter's stand-ins); None refuses such revisions (the guard must not guess).
        self.argument_stand_in = argument_stand_in
        self.context = offline_context(io.StringIO())
        self.state = attach(self.context, RunState(offline=True, rendering=True))
        self.environment = EnvironmentContext(
            config or Config(),
            script,  # type: ignore[arg-type]  # None: revisions rarely ask for it
            as_sql=True,
            dialect_name="postgresql",
        )
        self.environment._migration_context = self.context

    def render(
        self,
        revision: str,
        path: Path,
        module: ModuleType,
        phase: Phase | None,
        direction: str = "upgrade",
    ) -> list[Emitted]:
        """What ``module.upgrade()`` (or ``downgrade()``) emits, with source lines.

        ``phase`` is the revision's phase as the caller judged it (None when it has none:
        typed operations then refuse, which the linter reports).

        Raises :class:`RenderFailed` when the function raises (for example because it queries
        the database through ``op.get_bind()``, which has no connection offline) or needs
        arguments only the project's env.py supplies.
        """
        function = getattr(module, direction, None)
        if not callable(function):
            return []
        recorder = _Recorder(path)
        self.context.impl.static_output = recorder.output  # type: ignore[method-assign]
        self.state.enter(revision, phase, module, direction == "upgrade")
        previous_op = getattr(alembic_op, "_proxy", None)
        previous_context = getattr(alembic_context, "_proxy", None)
        try:
            with contextlib.redirect_stdout(sys.stderr), Operations.context(self.context) as ops:
                self.environment._install_proxy()
                _record_invocations(ops, recorder)
                args = _arguments(function, ops, self.argument_stand_in)
                stood_in = _takes_more_than_op(function)
                if args is None:
                    shown = ", ".join(inspect.signature(function).parameters)
                    raise RenderFailed(
                        f"{direction}({shown}) takes arguments that only the project's env.py "
                        "supplies",
                        _definition_line(function),
                        needs_arguments=True,
                    )
                function(*args)
        except RenderFailed:
            raise
        except Exception as err:  # noqa: BLE001 - any failure of user code is the caller's finding
            raise RenderFailed(
                f"{type(err).__name__}: {err}",
                _error_line(err, path),
                stood_in_arguments=stood_in,
            ) from err
        finally:
            # Operations.context() clears the module-level ``op`` proxy; restore both proxies.
            alembic_op._proxy = previous_op  # type: ignore[attr-defined]
            alembic_context._proxy = previous_context  # type: ignore[attr-defined]
            self.state.current = None
        return recorder.emitted


def _takes_more_than_op(function: Callable[..., Any]) -> bool:
    try:
        names = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return any(name not in _OP_PARAMETERS for name in names)


def _definition_line(function: Callable[..., Any]) -> int | None:
    code = getattr(function, "__code__", None)
    return code.co_firstlineno if code is not None else None


def _error_line(err: BaseException, path: Path) -> int | None:
    """The deepest line of the revision file in the exception's traceback."""
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line


_RENDERER: list[Renderer] = []


def render_sql(revision: Script, direction: str = "upgrade") -> str:
    """The SQL ``revision.upgrade()`` (or ``downgrade()``) emits, as one script.

    Raises :class:`RenderError` when the revision has no such function or cannot be rendered.
    """
    if not callable(getattr(revision.module, direction, None)):
        raise RenderError(f"revision {revision.revision} has no {direction}()")
    if not _RENDERER:
        _RENDERER.append(Renderer())
    try:
        emitted = _RENDERER[0].render(
            revision.revision, Path(revision.path), revision.module, phase_of(revision), direction
        )
    except RenderFailed as err:
        if isinstance(err.__cause__, ExpandContractError) and not isinstance(
            err.__cause__, RenderError
        ):
            raise err.__cause__ from None
        raise RenderError(
            f"revision {revision.revision} cannot be rendered offline: {err}"
        ) from err
    return "\n".join(_terminated(piece.sql) for piece in emitted)


def _terminated(sql: str) -> str:
    return sql if re.search(r";\s*$", sql) else sql + ";"
