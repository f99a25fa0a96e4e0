"""EC101 add-not-null-column: ``ADD COLUMN ... NOT NULL`` without a default on an existing table.

Why: PostgreSQL rejects it outright on a table that has rows, and if the table happens to be
empty, every ``INSERT`` of the running release (which does not know the column) fails from then
on. Tables created in the same revision are empty and unused, so they are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if (
            change.kind == "add_column"
            and "not_null" in change.flags
            and "default" not in change.flags
            and not analysis.is_new_table(change.table)
        ):
            yield Hit(
                f"adding NOT NULL column {target(change)} without a default fails on a populated "
                "table and breaks inserts of the running release",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC101",
    "add-not-null-column",
    Severity.ERROR,
    "NOT NULL column added without a default",
    __doc__ or "",
    "expand: add the column nullable (op.expand_add_column); migrate: backfill in batches; "
    "contract: SET NOT NULL via a validated CHECK — or the add_not_null_column pattern (expandcontract.ops.patterns)",
    check,
)
