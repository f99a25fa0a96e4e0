"""EC110 create-index-not-concurrently: ``CREATE INDEX`` without ``CONCURRENTLY``.

Why: a plain ``CREATE INDEX`` holds a SHARE lock for the whole build: every ``INSERT``,
``UPDATE`` and ``DELETE`` of both releases waits, for minutes on a large table. Tables created
in the same revision are empty, so they are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if (
            change.kind == "create_index"
            and "concurrently" not in change.flags
            and not analysis.is_new_table(change.table)
        ):
            yield Hit(
                f"CREATE INDEX {change.name or ''} on {change.table} without CONCURRENTLY blocks "
                "writes for the whole build",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC110",
    "create-index-not-concurrently",
    Severity.ERROR,
    "index built without CONCURRENTLY",
    __doc__ or "",
    "op.create_index(..., postgresql_concurrently=True) inside "
    "`with op.get_context().autocommit_block():` (or op.expand_create_index)",
    check,
)
