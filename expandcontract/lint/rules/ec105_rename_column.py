"""EC105 rename-column: ``RENAME COLUMN`` on an existing table.

Why: the instant the rename commits, every query of the release that uses the old name fails,
and during a blue-green switch one of the two live releases always does. There is no phase in
which a plain rename is safe; tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import (
    Hit,
    LintContext,
    Rule,
    each_change,
    phasing_hint,
    target,
)


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind == "rename_column" and not analysis.is_new_table(change.table):
            yield Hit(
                f"renaming column {target(change)} breaks every query of the release that uses "
                "the old name" + phasing_hint(analysis, "rename"),
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC105",
    "rename-column",
    Severity.ERROR,
    "column renamed in place",
    __doc__ or "",
    "use the rename_column pattern (expandcontract.ops.patterns): expand adds the new column with a two-way sync trigger, "
    "migrate backfills it, contract drops the old column",
    check,
)
