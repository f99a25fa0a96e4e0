"""EC202 ddl-in-migrate: a schema change in a migrate revision.

Why: migrate is for moving data (batched backfills) and validating constraints, and it may
run for hours. Schema changes belong in expand, where they are applied, reviewed and rolled
back as a unit before data starts moving; DDL mixed into a long data migration holds locks
for its duration. expandcontract's own bookkeeping tables (``expandcontract_*``) are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.config import OWN_TABLE_PREFIX
from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change
from expandcontract.phases import Phase
from expandcontract.sql import Effect


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, {Phase.MIGRATE}):
        if change.effect is not Effect.ADDITIVE:
            continue
        if (change.table or "").rsplit(".", 1)[-1].startswith(OWN_TABLE_PREFIX):
            continue
        yield Hit(
            f"{change.describe()} is a schema change in a migrate revision",
            analysis,
            statement.line,
            statement.sql,
        )


RULE = Rule(
    "EC202",
    "ddl-in-migrate",
    Severity.ERROR,
    "schema change in a migrate revision",
    __doc__ or "",
    "move the schema change to an expand revision the migrate revision depends on",
    check,
)
