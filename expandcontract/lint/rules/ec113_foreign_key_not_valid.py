"""EC113 foreign-key-not-valid: a foreign key added to an existing table without ``NOT VALID``.

Why: adding a foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock on
both tables: writes of both releases stall for the whole scan. ``NOT VALID`` skips the scan;
``VALIDATE CONSTRAINT`` later checks the rows under a lock that lets writes through.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if analysis.is_new_table(change.table) or "foreign_key" not in change.flags:
            continue
        if change.kind == "add_column" or (
            change.kind == "add_constraint" and "not_valid" not in change.flags
        ):
            yield Hit(
                f"foreign key on {target(change)} added without NOT VALID scans the table while "
                "blocking writes",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC113",
    "foreign-key-not-valid",
    Severity.ERROR,
    "foreign key added without NOT VALID",
    __doc__ or "",
    "expand: op.expand_add_foreign_key (NOT VALID); migrate: op.migrate_validate_constraint",
    check,
)
