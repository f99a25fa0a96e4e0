"""EC115 unique-constraint-directly: ``ADD UNIQUE`` / ``PRIMARY KEY`` / ``EXCLUDE`` built in place.

Why: the constraint builds its index while holding an ACCESS EXCLUSIVE lock, blocking reads and
writes of both releases for the whole build (and fails at the end if duplicates exist). Build
the index ``CONCURRENTLY`` first, then attach it with ``USING INDEX`` (instant). Tables created
in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target

_INDEXED = frozenset({"unique", "primary_key", "exclusion"})


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        if analysis.is_new_table(change.table) or not (_INDEXED & change.flags):
            continue
        if change.kind == "add_column" or (
            change.kind == "add_constraint" and "using_index" not in change.flags
        ):
            kind = sorted(_INDEXED & change.flags)[0].replace("_", " ").upper()
            yield Hit(
                f"{kind} constraint on {target(change)} builds its index under an ACCESS "
                "EXCLUSIVE lock",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC115",
    "unique-constraint-directly",
    Severity.ERROR,
    "UNIQUE / PRIMARY KEY / EXCLUDE constraint built in place",
    __doc__ or "",
    "expand: CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT ... "
    "UNIQUE USING INDEX (op.expand_add_unique does both)",
    check,
)
