"""Runtime phase policing: judge the SQL a revision actually executes.

A destructive statement (DROP, RENAME, type change, SET NOT NULL, ...) inside an expand or
migrate revision aborts the run, unless the revision declares a reasoned exemption::

    expandcontract_exemptions = {"drop_index": "index was never used; created by mistake in 3f2a"}

The same classifier judges statements for ``expandcontract check``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from expandcontract.errors import PhaseViolation
from expandcontract.phases import Phase
from expandcontract.runtime.state import EXEMPTIONS_ATTR, RunState
from expandcontract.sql import Change, SqlParseError, classify
from expandcontract.sql.type_changes import classify_type_change

_PARAM = re.compile(r"%\(\w+\)s|%s")


def judge(
    state: RunState,
    statement: str,
    column_type: Callable[[str, str], str | None] | None = None,
) -> None:
    """Raise :class:`PhaseViolation` if ``statement`` breaks the running revision's phase.

    ``column_type(table, column)`` gives a column's current type, so that a type change
    PostgreSQL makes without touching the table (a widening, see
    :mod:`expandcontract.sql.type_changes`) is not refused.
    """
    step = state.current
    if step is None or state.internal or not step.is_upgrade:
        return
    if step.phase not in (Phase.EXPAND, Phase.MIGRATE):
        return
    try:
        changes = classify(_PARAM.sub("NULL", statement))
    except SqlParseError:
        return  # not ours to judge; `expandcontract check` reports unparseable SQL
    exemptions = step.exemptions
    for change in changes:
        if not change.destructive:
            continue
        reason = exemptions.get(change.kind)
        if reason is not None and reason.strip():
            continue
        if _safe_type_change(change, column_type):
            continue
        hint = (
            f"the exemption for {change.kind!r} needs a reason"
            if reason is not None
            else f"move it to a contract revision, or declare {EXEMPTIONS_ATTR} = "
            f"{{{change.kind!r}: 'why it is safe'}} in the revision"
        )
        raise PhaseViolation(
            f"{step.phase} revision {step.revision} executed a destructive statement "
            f"({change.describe()}): {change.sql.strip()[:200]!r}; {hint}",
            revision=step.revision,
            phase=str(step.phase),
        )


def _safe_type_change(change: Change, column_type: Callable[[str, str], str | None] | None) -> bool:
    if change.kind != "alter_column_type" or column_type is None or not change.name:
        return False
    if not (change.table and change.column):
        return False
    verdict = classify_type_change(
        column_type(change.table, change.column), change.name, using="using" in change.flags
    )
    return verdict is not None and verdict.safe


_COLUMN_TYPE = (
    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped"
)


def before_cursor_execute(state: RunState):
    """A SQLAlchemy ``before_cursor_execute`` listener bound to one run."""

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        def column_type(table: str, column: str) -> str | None:
            if conn.dialect.name != "postgresql":
                return None
            # the raw DB-API cursor: no SQLAlchemy event, so this query is not judged itself
            lookup = cursor.connection.cursor()
            try:
                lookup.execute(_COLUMN_TYPE, (table, column))
                row = lookup.fetchone()
            finally:
                lookup.close()
            return row[0] if row else None

        judge(state, statement, column_type)

    return listener
