"""EC114 check-not-valid: a ``CHECK`` constraint added to an existing table without ``NOT VALID``.

Why: the check scans every row under an ACCESS EXCLUSIVE lock; nothing of either release can
read or write the table meanwhile. Add it ``NOT VALID`` (instant), ``VALIDATE`` it later.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if (
            change.kind == "add_constraint"
            and "check" in change.flags
            and "not_valid" not in change.flags
            and not analysis.is_new_table(change.table)
        ):
            yield Hit(
                f"CHECK constraint {change.name or ''} on {change.table} added without NOT VALID "
                "scans the table under an ACCESS EXCLUSIVE lock",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC114",
    "check-not-valid",
    Severity.ERROR,
    "CHECK constraint added without NOT VALID",
    __doc__ or "",
    "expand: op.expand_add_check (NOT VALID); migrate: op.migrate_validate_constraint",
    check,
)
