"""EC104 column-type-change: ``ALTER COLUMN ... TYPE`` that rewrites an existing table.

Why: most type changes rewrite the table (and its indexes) under an ACCESS EXCLUSIVE lock, and
the release that still reads and writes the old type may break on the new one. Changes
PostgreSQL makes in place (``varchar(n)`` -> ``varchar(m > n)``/``text``, ``numeric(10,2)`` ->
``numeric(11,2)``, ... see :mod:`expandcontract.sql.type_changes`, the classification runtime
policing and autogenerate use too) are not reported when the old type is known (Alembic's
``existing_type=``). Raw SQL does not say the old type, so it is judged unsafe. Tables created
in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import (
    Hit,
    LintContext,
    Rule,
    each_change,
    phasing_hint,
    target,
)
from expandcontract.sql.type_changes import classify_type_change


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if change.kind != "alter_column_type" or analysis.is_new_table(change.table):
            continue
        old, new = statement.types or (None, change.name)
        verdict = classify_type_change(old, new or change.name or "", using="using" in change.flags)
        if verdict is not None and verdict.safe:
            continue
        cost = (
            f"{verdict.reason} under an ACCESS EXCLUSIVE lock"
            if verdict is not None
            else "rewrites the table under an ACCESS EXCLUSIVE lock unless it only widens the "
            "type (give alter_column existing_type= so the linter can tell)"
        )
        yield Hit(
            f"changing the type of {target(change)}: {cost}, and can break the release using "
            "the old type" + phasing_hint(analysis, "type"),
            analysis,
            statement.line,
            statement.sql,
        )


RULE = Rule(
    "EC104",
    "column-type-change",
    Severity.ERROR,
    "column type changed in place (a rewrite)",
    __doc__ or "",
    "use the change_column_type pattern (expandcontract.ops.patterns): expand adds a new column "
    "plus a sync trigger, migrate backfills it, contract drops the old column",
    check,
)
