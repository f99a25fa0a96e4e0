"""EC003 unparseable-sql: PostgreSQL's parser rejects a statement.

Why: the statement will fail when the migration runs, and no rule can judge what it does.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        for statement in [*analysis.upgrade, *analysis.downgrade]:
            if statement.parse_error:
                yield Hit(statement.parse_error, analysis, statement.line, statement.sql)


RULE = Rule(
    "EC003",
    "unparseable-sql",
    Severity.ERROR,
    "SQL that PostgreSQL cannot parse",
    __doc__ or "",
    "fix the SQL; check it with `psql` against a scratch database",
    check,
)
