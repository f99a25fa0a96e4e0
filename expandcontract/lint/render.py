"""Render a revision offline and remember, for every statement, the source line that emitted it.

The revision runs against an offline (``as_sql``) PostgreSQL migration context, exactly as
``alembic upgrade --sql`` would run it, but with ``Operations.invoke`` wrapped:
every statement written to the script is attributed to the innermost operation being invoked
and to the line of the revision file on the call stack. ``COMMIT``/``BEGIN`` not written by
raw ``op.execute()`` SQL come from ``autocommit_block()`` and tell us when a statement runs
outside the revision's transaction.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from alembic import op as alembic_op
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from alembic.script import Script

from expandcontract.lint.model import Statement
from expandcontract.phases import Phase
from expandcontract.render import offline_context
from expandcontract.runtime.state import RunState, attach
from expandcontract.sql import Change, SqlParseError, classify

# Register the phase-typed operations on ``op`` so revisions using them render; without them
# (a broken install), such revisions report EC001 instead of stopping the linter.
with contextlib.suppress(ImportError):
    import expandcontract.ops  # noqa: F401


class RenderFailed(Exception):
    """The revision raised while rendering; ``line`` is where, in the revision file."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _Recorder:
    """Collects statements while one revision function runs."""

    def __init__(self, path: Path) -> None:
        self.filename = str(path)
        self.statements: list[Statement] = []
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
            # autocommit_block() (ours or an operation's): what comes between runs outside the
            # revision's transaction. COMMIT written by the revision's own raw SQL is kept.
            self.in_transaction = bare == "BEGIN"
            return
        op_name = _op_name(outer) if outer is not None else None
        self.statements.append(
            parse_statement(sql, self.source_line(), self.in_transaction, raw, op_name)
        )


def parse_statement(
    sql: str, line: int | None, in_transaction: bool, raw: bool, op_name: str | None
) -> Statement:
    """Classify ``sql`` (parse errors are kept on the statement, for the rules to report)."""
    try:
        changes: list[Change] = classify(sql)
        error = None
    except SqlParseError as err:
        changes, error = [], str(err)
    return Statement(sql, line, changes, in_transaction, raw, op_name, error)


def _op_name(operation: Any) -> str:
    if isinstance(operation, alembic_ops.ExecuteSQLOp):
        return "execute"
    name = type(operation).__name__.removesuffix("Op")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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


class Renderer:
    """Renders revisions one after another through one offline migration context.

    Building a MigrationContext is the expensive part of rendering a small revision (it builds
    the version table's metadata), so one is shared by every revision of a lint run.
    """

    def __init__(self) -> None:
        self.context = offline_context(io.StringIO())
        self.state = attach(self.context, RunState(offline=True, rendering=True))

    def render(
        self, revision: Script, phase: Phase | None, direction: str = "upgrade"
    ) -> list[Statement]:
        """The statements ``revision.upgrade()`` (or ``downgrade()``) emits, with source lines.

        ``phase`` is the revision's phase as the caller judged it (None when it has none, or
        is on several branches: typed operations then refuse, which is a finding too).

        Raises :class:`RenderFailed` when the function raises (for example because it queries
        the database through ``op.get_bind()``, which has no connection offline).
        """
        function = getattr(revision.module, direction, None)
        if function is None:
            return []
        path = Path(revision.path)
        recorder = _Recorder(path)
        self.context.impl.static_output = recorder.output  # type: ignore[method-assign]
        self.state.enter(revision.revision, phase, revision.module, direction == "upgrade")
        previous = getattr(alembic_op, "_proxy", None)
        try:
            with Operations.context(self.context) as operations:
                _record_invocations(operations, recorder)
                function()
        except Exception as err:  # noqa: BLE001 - any failure of user code becomes a finding
            raise RenderFailed(f"{type(err).__name__}: {err}", _error_line(err, path)) from err
        finally:
            # Operations.context() clears the module-level ``op`` proxy; restore it.
            alembic_op._proxy = previous  # type: ignore[attr-defined]
            self.state.current = None
        return recorder.statements


def _error_line(err: BaseException, path: Path) -> int | None:
    """The deepest line of the revision file in the exception's traceback."""
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line
