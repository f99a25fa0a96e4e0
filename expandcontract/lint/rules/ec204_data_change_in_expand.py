"""EC204 data-change-in-expand: ``UPDATE`` / ``DELETE`` of existing rows in an expand revision.

Why: expand should be quick, additive and trivially reversible. Rewriting rows there holds
the revision's locks while the data moves, and mixes a schema change with a backfill that
cannot be resumed or throttled. Rows of tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change
from expandcontract.phases import Phase


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, {Phase.EXPAND}):
        if change.kind in ("update", "delete") and not analysis.is_new_table(change.table):
            yield Hit(
                f"{change.kind.upper()} of {change.table} rows in an expand revision",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC204",
    "data-change-in-expand",
    Severity.WARNING,
    "data modified in an expand revision",
    __doc__ or "",
    "move the data change to a migrate revision and use op.migrate_backfill (batched, resumable)",
    check,
)
