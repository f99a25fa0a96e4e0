"""Runtime phase policing: judge the SQL a revision actually executes.

A destructive statement (DROP, RENAME, type change, SET NOT NULL, ...) inside an expand or
migrate revision aborts the run, unless the revision declares a reasoned exemption::

    expandcontract_exemptions = {"drop_index": "index was never used; created by mistake in 3f2a"}

The same classifier judges statements for ``expandcontract check``.
"""

from __future__ import annotations

import re
from typing import Any

from expandcontract.errors import PhaseViolation
from expandcontract.phases import Phase
from expandcontract.runtime.state import EXEMPTIONS_ATTR, RunState
from expandcontract.sql import SqlParseError, classify

_PARAM = re.compile(r"%\(\w+\)s|%s")


def judge(state: RunState, statement: str) -> None:
    """Raise :class:`PhaseViolation` if ``statement`` breaks the running revision's phase."""
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


def before_cursor_execute(state: RunState):
    """A SQLAlchemy ``before_cursor_execute`` listener bound to one run."""

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        judge(state, statement)

    return listener
