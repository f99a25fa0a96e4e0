"""Runtime phase policing: judge the SQL a revision actually executes.

A destructive statement (DROP, RENAME, type change, SET NOT NULL, ...) inside an expand or
migrate revision aborts the run, unless the revision declares a reasoned exemption::

    expandcontract_exemptions = {"drop_index": "index was never used; created by mistake in 3f2a"}

Revisions on no phase branch that are not legacy (after the adopted baseline) may run while
either release is live, so they are policed like expand. Downgrades are policed too: a
downgrade may take away only what its own upgrade added (the hook tells us what that is).
Statements we cannot see into (DO blocks, CALL, calls of user functions) fail closed unless
exempted by their kind (``do_block``, ``call``, ``function_call``).

The same classifier judges statements for ``expandcontract check``. The listener also hands
the server-side guard (:mod:`expandcontract.enforcement`) its approvals: the whole session
for a step the contract guard allowed, one statement for an exempted or internal one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from expandcontract import enforcement
from expandcontract.errors import PhaseViolation
from expandcontract.phases import Phase
from expandcontract.runtime.state import EXEMPTIONS_ATTR, RunState, Step
from expandcontract.runtime.trigger_findings import catalog, with_trigger_findings
from expandcontract.sql import SqlParseError, classify, removes
from expandcontract.sql.classify import Change, Effect
from expandcontract.sql.type_changes import classify_type_change

_PARAM = re.compile(r"%\(\w+\)s|%s")

# RunState.extras keys the hook fills in.
LEGACY = "legacy_revisions"  # frozenset of revision ids at or before the baseline
APPROVED = "approved_revisions"  # set of revision ids the contract guard allowed
GRANTED = "granted_revision"  # the revision whose session approval is on the server now
ENFORCED = "server_enforcement"  # True when the approvals table exists
DOWNGRADE_ADDS = "downgrade_allowed"  # {revision: {(table, column or None)}} its upgrade added
USER_FUNCTIONS = "user_function_lookup"  # callable(names) -> user-defined names among them
CREATED_FUNCTIONS = "functions_created"  # functions this run created (their creation was judged)
FUNCTION_SOURCES = "function_sources"  # {name: (language, source)} of this run's CREATE FUNCTIONs


def policed(state: RunState, step: Step) -> bool:
    """Is this step's SQL judged by phase policing?"""
    if step.phase is Phase.CONTRACT and step.is_upgrade:
        return False
    return not (step.phase is None and step.revision in state.extras.get(LEGACY, frozenset()))


CREATED = "created_in_run"  # what this run's own statements added: no release can use it yet


def _remember_additions(state: RunState, change: Change) -> None:
    created = state.extras.setdefault(CREATED, set())
    table = change.table.rsplit(".", 1)[-1] if change.table else None
    if change.kind == "create_table" and table:
        created.add((table, None))
    elif table and change.column:
        created.add((table, change.column))
    if change.name:
        created.add(("", change.name.rsplit(".", 1)[-1]))


def _allowed_by_downgrade(state: RunState, step: Step, change: Change) -> bool:
    """Removing what this run created, or what a downgrade's own upgrade added, is allowed."""
    added = set(state.extras.get(CREATED, set()))
    if not step.is_upgrade:
        added |= state.extras.get(DOWNGRADE_ADDS, {}).get(step.revision, set())
    if change.name and ("", change.name.rsplit(".", 1)[-1]) in added:
        return True
    if change.table is None:
        return False
    table = change.table.rsplit(".", 1)[-1]
    return (table, None) in added or (table, change.column) in added


ColumnType = Callable[[str, str], str | None]


def judge(
    state: RunState,
    statement: str,
    dbapi_connection: Any = None,
    column_type: ColumnType | None = None,
) -> bool:
    """Raise :class:`PhaseViolation` if ``statement`` breaks the running revision's phase.

    ``column_type(table, column)`` gives a column's current type, so that a type change
    PostgreSQL makes without touching the table (a widening, see
    :mod:`expandcontract.sql.type_changes`) is not refused.

    Returns True when the statement passed only thanks to an exemption (or a downgrade
    removing what its upgrade added), so the server-side guard must approve it.
    """
    step = state.current
    if step is None or state.internal or not policed(state, step):
        return False
    try:
        changes = classify(_PARAM.sub("NULL", statement))
    except SqlParseError:
        return False  # not ours to judge; `expandcontract check` reports unparseable SQL
    lookup = state.extras.get(USER_FUNCTIONS)
    exemptions = step.exemptions
    needs_approval = False
    why: dict[int, str] = {}
    findings = with_trigger_findings(
        changes,
        dbapi_connection,
        created=state.extras.setdefault(CREATED, set()),
        sources=state.extras.setdefault(FUNCTION_SOURCES, {}),
        why=why,
    )
    for change in findings:
        if change.kind == "trigger_judged":
            needs_approval = True  # judged harmless here; the server's cruder check may not be
            continue
        if change.kind == "create_function" and change.name:
            created = state.extras.setdefault(CREATED_FUNCTIONS, set())
            if not (lookup is not None and lookup(dbapi_connection, [change.name])):
                created.add(change.name.rsplit(".", 1)[-1])
        if change.effect is Effect.DATA and change.calls and lookup is not None:
            known = state.extras.get(CREATED_FUNCTIONS, set())
            calls = sorted(c for c in change.calls if c.rsplit(".", 1)[-1] not in known)
            user = lookup(dbapi_connection, calls) if calls else []
            if user:
                change = Change("function_call", Effect.OPAQUE, change.sql, name=", ".join(user))
        replacing = (
            change.kind == "create_function"
            and "or_replace" in change.flags
            and (change.name or "").rsplit(".", 1)[-1]
            not in state.extras.get(CREATED_FUNCTIONS, set())
        )
        if replacing and lookup is not None and lookup(dbapi_connection, [change.name or ""]):
            # Replacing a live function changes what the running release's triggers do.
            change = Change("replace_function", Effect.DESTRUCTIVE, change.sql, name=change.name)
        if change.effect is Effect.ADDITIVE:
            _remember_additions(state, change)
        if change.effect not in (Effect.DESTRUCTIVE, Effect.OPAQUE):
            if change.kind == "alter_column_type":
                needs_approval = True  # a type change the classifier judged safe
            continue
        if _allowed_by_downgrade(state, step, change) or _safe_type_change(change, column_type):
            needs_approval = True
            continue
        reason = exemptions.get(change.kind)
        if reason is not None and reason.strip():
            needs_approval = True
            continue
        what = (
            "a statement nobody can see into"
            if change.effect is Effect.OPAQUE
            else "a destructive statement"
        )
        described = change.describe()
        if id(change) in why:
            described += f", {why[id(change)]}"
        removed = removes(change)  # the definition the guard's usage check and the linter use
        if removed is not None:
            described += f"; it removes {removed.describe()}"
        hint = (
            f"the exemption for {change.kind!r} needs a reason"
            if reason is not None
            else f"move it to a contract revision, or declare {EXEMPTIONS_ATTR} = "
            f"{{{change.kind!r}: 'why it is safe'}} in the revision"
        )
        direction = "" if step.is_upgrade else " (downgrade)"
        raise PhaseViolation(
            f"{step.phase or 'unphased'} revision {step.revision}{direction} executed {what} "
            f"({described}): {change.sql.strip()[:200]!r}; {hint}",
            revision=step.revision,
            phase=str(step.phase),
        )
    return needs_approval


def approve(state: RunState, statement: str, dbapi_connection: Any, exempted: bool) -> None:
    """Give the server-side guard the approval this statement needs, before it runs."""
    if not state.extras.get(ENFORCED) or dbapi_connection is None:
        return
    step = state.current
    if step is None:
        return
    session_wide = step.revision in state.extras.get(APPROVED, set()) or not policed(state, step)
    if session_wide:
        if state.extras.get(GRANTED) != step.revision:
            enforcement.grant(
                dbapi_connection, revision=step.revision, reason="contract guard", statement=None
            )
            state.extras[GRANTED] = step.revision
        return
    if exempted or (state.internal and _destructive(statement)):
        reason = approval_reason(step) if exempted else "expandcontract's own housekeeping"
        enforcement.grant(
            dbapi_connection, revision=step.revision, reason=reason, statement=statement
        )


def approval_reason(step: Step) -> str:
    """What an approval of one of ``step``'s statements records: the revision's reasoned
    exemptions, so the approvals table says why, not only that."""
    if not step.exemptions:
        return "allowed without an exemption (a legacy step, or removing what its upgrade added)"
    return "exempted: " + "; ".join(
        f"{kind}: {why}" for kind, why in sorted(step.exemptions.items())
    )


def offline_approval(state: RunState, statement: str) -> bool:
    """Offline (``--sql``): judge a statement as it is written into the script.

    Raises :class:`PhaseViolation` as online for a destructive statement nobody exempted; True
    when the script must carry an approval for it (written just before it), the offline form
    of :func:`approve`: an exempted statement of a policed step, or a destructive one of a
    legacy step (online the whole step is approved). A contract step's approval is the
    session approval the guard block's success writes.
    """
    step = state.current
    if step is None or state.internal:
        return False
    if policed(state, step):
        return judge(state, statement)
    if step.phase is Phase.CONTRACT and step.is_upgrade:
        return False
    try:
        return any(
            c.effect in (Effect.DESTRUCTIVE, Effect.OPAQUE)
            for c in classify(_PARAM.sub("NULL", statement))
        )
    except SqlParseError:
        return True


def _safe_type_change(change: Change, column_type: ColumnType | None) -> bool:
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


def _destructive(statement: str) -> bool:
    try:
        return any(c.destructive for c in classify(_PARAM.sub("NULL", statement)))
    except SqlParseError:
        return True  # let the server judge what it sees; the approval is for this text only


def before_cursor_execute(state: RunState):
    """A SQLAlchemy ``before_cursor_execute`` listener bound to one run."""

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        dbapi_connection = getattr(cursor, "connection", None)

        def column_type(table: str, column: str) -> str | None:
            if conn.dialect.name != "postgresql" or dbapi_connection is None:
                return None
            rows = catalog(dbapi_connection, _COLUMN_TYPE, (table, column))
            return rows[0][0] if rows else None

        exempted = judge(state, statement, dbapi_connection, column_type)
        approve(state, statement, dbapi_connection, exempted)

    return listener
