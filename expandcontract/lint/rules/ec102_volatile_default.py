"""EC102 volatile-default: a new column whose value PostgreSQL must compute per row.

Why: a volatile default (``random()``, ``gen_random_uuid()``, ``clock_timestamp()``, a serial)
or a stored generated column makes ``ADD COLUMN`` rewrite the whole table under an ACCESS
EXCLUSIVE lock: every query of both releases waits until the rewrite ends. Constant defaults
are free since PostgreSQL 11. Tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind != "add_column" or analysis.is_new_table(change.table):
            continue
        if "volatile_default" in change.flags or "generated" in change.flags:
            what = (
                "a stored generated value" if "generated" in change.flags else "a volatile default"
            )
            yield Hit(
                f"adding column {target(change)} with {what} rewrites the whole table under an "
                "ACCESS EXCLUSIVE lock",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC102",
    "volatile-default",
    Severity.ERROR,
    "column added with a volatile default or stored generated value (table rewrite)",
    __doc__ or "",
    "expand: add the column without a default (or with a constant one) and SET DEFAULT after; "
    "migrate: fill existing rows with op.migrate_backfill",
    check,
)
