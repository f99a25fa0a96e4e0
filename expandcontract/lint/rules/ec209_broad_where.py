"""EC209 broad-where-dml: an ``UPDATE``/``DELETE`` whose ``WHERE`` matches (nearly) every row.

Why: ``WHERE 1 = 1``, ``WHERE id > 0``, ``WHERE col IS NOT NULL`` on a NOT NULL column, or
``WHERE col IS NULL`` right after adding ``col`` look selective but touch the whole table: one
transaction that locks every row it updates until the end, exactly like EC205's statement
without a ``WHERE``. It is a warning because the linter cannot count rows; the predicate
shown says why it judged the share of rows to be all of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import RevisionAnalysis, Severity, table_identity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change
from expandcontract.lint.where import broad_where


def _not_null(ctx: LintContext, upto: RevisionAnalysis, table: str) -> set[str]:
    """Columns of ``table`` the history (up to this revision) made NOT NULL."""
    found: set[str] = set()
    for analysis in ctx.revisions:
        for _, change in analysis.changes():
            if change.table is None or table_identity(change.table) != table or not change.column:
                continue
            if change.kind == "set_not_null" or (
                change.kind == "add_column" and "not_null" in change.flags
            ):
                found.add(change.column)
        if analysis is upto:
            break
    return found


def _added_without_default(analysis: RevisionAnalysis, table: str) -> set[str]:
    return {
        change.column
        for _, change in analysis.changes()
        if change.kind == "add_column"
        and change.column
        and change.table
        and table_identity(change.table) == table
        and "default" not in change.flags
    }


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind not in ("update", "delete") or "whole_table" in change.flags:
            continue
        if not change.table or analysis.is_new_table(change.table):
            continue
        table = table_identity(change.table)
        predicate = broad_where(
            change.sql,
            _not_null(ctx, analysis, table),
            _added_without_default(analysis, table),
        )
        if predicate is not None:
            yield Hit(
                f"{change.kind.upper()} of {change.table} WHERE {predicate} matches every row: "
                "a whole-table change in one transaction",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC209",
    "broad-where-dml",
    Severity.WARNING,
    "UPDATE/DELETE whose WHERE matches every row",
    __doc__ or "",
    "use op.migrate_backfill in a migrate revision (keyset batches, one short transaction "
    "each); for a new column, give it a constant server_default instead of updating the rows",
    check,
)
