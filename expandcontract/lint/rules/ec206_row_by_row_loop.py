"""EC206 row-by-row-loop: a Python loop that executes SQL once per row.

Why: a loop over ``op.get_bind().execute(...)`` results issuing one statement per row runs in
the revision's single transaction: it cannot be resumed after a crash, holds every row lock
until the end, is orders of magnitude slower than set-based SQL, and cannot be rendered to a
reviewable ``--sql`` script.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        for line in analysis.static.row_loops:
            yield Hit("loop executes SQL once per iteration (row by row)", analysis, line)


RULE = Rule(
    "EC206",
    "row-by-row-loop",
    Severity.ERROR,
    "Python loop executing SQL per row",
    __doc__ or "",
    "express the change as one set-based UPDATE and run it with op.migrate_backfill (batched by "
    "primary key) in a migrate revision",
    check,
)
