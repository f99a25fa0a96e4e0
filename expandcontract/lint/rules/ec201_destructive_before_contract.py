"""EC201 destructive-before-contract: a destructive change in an expand or migrate revision.

Why: expand and migrate run while the previous release still serves traffic. Anything that
removes or changes what it relies on (a dropped index, constraint, default, trigger, view,
function or type, a TRUNCATE, an UPDATE or DELETE of every row, ...) breaks it, and rollback no longer restores service. Changes
with a dedicated rule (DROP COLUMN, renames, type changes, SET NOT NULL, ...) are reported by
that rule instead. Runtime policing aborts these statements too; a reasoned
``expandcontract_exemptions = {kind: reason}`` in the revision silences both.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import (
    LIVE,
    Hit,
    LintContext,
    Rule,
    each_change,
    phase_name,
    phasing_hint,
)
from expandcontract.lint.rules.ec119_not_null_default_dropped import hazards

# Kinds with their own, more specific rule.
_SPECIFIC = frozenset(
    {
        "add_column",
        "alter_column_type",
        "drop_column",
        "drop_schema",
        "drop_table",
        "rename_column",
        "rename_table",
        "set_not_null",
    }
)


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, LIVE, honour_exemptions=True):
        if not change.destructive or change.kind in _SPECIFIC:
            continue
        if change.kind == "cascade" and any(c.kind in _SPECIFIC for c in statement.changes):
            continue  # the specific rule reports the statement (DROP SCHEMA ... CASCADE)
        if change.kind == "drop_default" and any(c == change for _, c in hazards(analysis)):
            continue  # EC119 says it more precisely
        if analysis.is_new_table(change.table):
            continue
        yield Hit(
            f"{change.describe()} is destructive and runs in {phase_name(analysis)}, "
            "while the previous release still depends on the old shape"
            + phasing_hint(analysis, "drop"),
            analysis,
            statement.line,
            statement.sql,
        )


RULE = Rule(
    "EC201",
    "destructive-before-contract",
    Severity.ERROR,
    "destructive change in expand or migrate",
    __doc__ or "",
    "move it to a contract revision; if it is truly safe, declare expandcontract_exemptions = "
    "{'<kind>': '<why>'} in the revision",
    check,
)
