"""EC109 drop-schema: ``DROP SCHEMA`` before contract, or ``DROP DATABASE`` in any revision.

Why: dropping a schema removes every table in it at once, under the feet of the running
release; it belongs in contract at the earliest. Dropping a database has no place in a
migration at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import EARLY, Hit, LintContext, Rule, each_change, phase_name


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, honour_exemptions=True):
        if change.kind == "dropdb":
            yield Hit("DROP DATABASE in a migration", analysis, statement.line, statement.sql)
        elif change.kind == "drop_schema" and analysis.phase in EARLY:
            yield Hit(
                f"dropping schema {change.name} in {phase_name(analysis)} removes "
                "everything in it while the old release runs",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC109",
    "drop-schema",
    Severity.ERROR,
    "schema dropped before contract, or a database dropped",
    __doc__ or "",
    "drop schemas in a contract revision; never drop databases from migrations",
    check,
)
