"""EC112 concurrently-in-transaction: a ``CONCURRENTLY`` statement inside the revision's transaction.

Why: PostgreSQL refuses ``CREATE/DROP INDEX CONCURRENTLY`` and ``REINDEX CONCURRENTLY`` inside
a transaction block, and Alembic runs each revision in one: the migration fails at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change

_KINDS = frozenset({"create_index", "drop_index", "reindex"})


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind in _KINDS and "concurrently" in change.flags and statement.in_transaction:
            yield Hit(
                f"{change.kind.replace('_', ' ').upper()} CONCURRENTLY cannot run inside the "
                "revision's transaction",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC112",
    "concurrently-in-transaction",
    Severity.ERROR,
    "CONCURRENTLY inside a transaction block",
    __doc__ or "",
    "wrap the statement in `with op.get_context().autocommit_block():`",
    check,
)
