"""EC103 unsafe-set-not-null: ``SET NOT NULL`` without a validated ``CHECK (col IS NOT NULL)``.

Why: in expand or migrate, the running release may still write NULLs into the column, so its
inserts start failing. In contract it is expected, but done directly it scans the whole table
under an ACCESS EXCLUSIVE lock. PostgreSQL skips that scan when a validated check constraint
already proves the column has no NULLs: add it ``NOT VALID``, ``VALIDATE`` it (a weaker lock),
then ``SET NOT NULL`` is instant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from expandcontract.lint.model import RevisionAnalysis, Severity
from expandcontract.lint.rules._base import (
    EARLY,
    Hit,
    LintContext,
    Rule,
    each_change,
    phase_name,
    target,
)


def _proven_not_null(ctx: LintContext, analysis: RevisionAnalysis, column: str, line: int) -> bool:
    pattern = re.compile(rf'\b"?{re.escape(column)}"?\s+IS\s+NOT\s+NULL', re.IGNORECASE)
    scope = [*ctx.dependencies(analysis), analysis]
    validated: set[str] = set()
    checks: dict[str, bool] = {}  # constraint name -> added already valid
    for revision in scope:
        for statement, change in revision.changes():
            if revision is analysis and statement.line is not None and statement.line > line:
                continue
            if change.kind == "validate_constraint" and change.name:
                validated.add(change.name)
            elif (
                change.kind == "add_constraint"
                and "check" in change.flags
                and pattern.search(change.sql)
            ):
                checks[change.name or ""] = "not_valid" not in change.flags
    return any(valid or name in validated for name, valid in checks.items())


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, honour_exemptions=True):
        if change.kind != "set_not_null" or analysis.is_new_table(change.table):
            continue
        if analysis.phase in EARLY:
            yield Hit(
                f"SET NOT NULL on {target(change)} in {phase_name(analysis)}: the "
                "running release may still write NULLs and its inserts would fail",
                analysis,
                statement.line,
                statement.sql,
            )
        elif not _proven_not_null(ctx, analysis, change.column or "", statement.line or 10**9):
            yield Hit(
                f"SET NOT NULL on {target(change)} scans the table under an ACCESS EXCLUSIVE lock: "
                "no validated CHECK (... IS NOT NULL) precedes it",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC103",
    "unsafe-set-not-null",
    Severity.ERROR,
    "SET NOT NULL outside contract, or without a validated CHECK constraint",
    __doc__ or "",
    "expand: ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; migrate: VALIDATE CONSTRAINT c; "
    "contract: SET NOT NULL (op.contract_set_not_null checks and does it)",
    check,
)
