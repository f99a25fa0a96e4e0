"""EC205 unbatched-dml: an ``UPDATE`` or ``DELETE`` over a whole table in one statement.

Why: one statement means one transaction: it locks every row it touches until the end, bloats
the table, holds back vacuum, and one bad row aborts all of it. On a large table the running
release's writes to those rows wait for minutes. Tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if (
            change.kind in ("update", "delete")
            and "whole_table" in change.flags
            and not analysis.is_new_table(change.table)
        ):
            yield Hit(
                f"{change.kind.upper()} of every row of {change.table} in one transaction",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC205",
    "unbatched-dml",
    Severity.ERROR,
    "whole-table UPDATE/DELETE in one statement",
    __doc__ or "",
    "use op.migrate_backfill in a migrate revision: keyset batches, one short transaction each, "
    "resumable, with bad rows quarantined",
    check,
)
