"""EC111 drop-index-not-concurrently: ``DROP INDEX`` without ``CONCURRENTLY``.

Why: a plain ``DROP INDEX`` takes an ACCESS EXCLUSIVE lock on the table; behind any long
query it queues, and every other query of both releases queues behind it.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind != "drop_index" or "concurrently" in change.flags:
            continue
        created_here = {c.name for _, c in analysis.changes() if c.kind == "create_index"}
        if change.name in created_here:
            continue
        yield Hit(
            f"DROP INDEX {change.name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock",
            analysis,
            statement.line,
            statement.sql,
        )


RULE = Rule(
    "EC111",
    "drop-index-not-concurrently",
    Severity.ERROR,
    "index dropped without CONCURRENTLY",
    __doc__ or "",
    "op.contract_drop_index, or op.drop_index(..., postgresql_concurrently=True) inside an autocommit_block()",
    check,
)
