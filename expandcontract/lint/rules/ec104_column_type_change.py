"""EC104 column-type-change: ``ALTER COLUMN ... TYPE`` on an existing table.

Why: most type changes rewrite the table (and its indexes) under an ACCESS EXCLUSIVE lock, and
the release that still reads and writes the old type may break on the new one. It is unsafe in
every phase; only tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind == "alter_column_type" and not analysis.is_new_table(change.table):
            yield Hit(
                f"changing the type of {target(change)} rewrites the table under an ACCESS "
                "EXCLUSIVE lock and can break the release using the old type",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC104",
    "column-type-change",
    Severity.ERROR,
    "column type changed in place",
    __doc__ or "",
    "use the change_column_type pattern (expandcontract.ops.patterns): expand adds a new column plus a sync trigger, migrate "
    "backfills it, contract drops the old column",
    check,
)
