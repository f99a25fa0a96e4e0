"""EC106 rename-table: ``ALTER TABLE ... RENAME TO`` on an existing table.

Why: the release that uses the old name fails on every query the moment the rename commits.
Tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, phasing_hint


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind == "rename_table" and not analysis.is_new_table(change.table):
            yield Hit(
                f"renaming table {change.table} to {change.name} breaks the release that uses "
                "the old name" + phasing_hint(analysis, "rename"),
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC106",
    "rename-table",
    Severity.ERROR,
    "table renamed in place",
    __doc__ or "",
    "expand: create the new table (or an updatable view under the new name) kept in sync; "
    "migrate: copy the rows; contract: drop the old table",
    check,
)
