"""EC118 transaction-control: ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` in raw SQL.

Why: Alembic (and the expandcontract hook) own the revision's transaction and the ledger record
written with it. A ``COMMIT`` inside ``op.execute()`` commits half a revision: if the rest
fails, the database is left between two versions and the ledger does not know.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind == "transaction" and statement.raw:
            yield Hit(
                "raw SQL controls the transaction Alembic runs the revision in",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC118",
    "transaction-control",
    Severity.ERROR,
    "BEGIN/COMMIT/ROLLBACK in raw SQL",
    __doc__ or "",
    "for statements that cannot run in a transaction use `with op.get_context()."
    "autocommit_block():`; otherwise split the revision",
    check,
)
