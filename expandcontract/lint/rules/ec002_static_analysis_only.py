"""EC002 static-analysis-only: the revision queries the database, so it cannot be rendered.

Why: a revision that reads through ``op.get_bind()`` needs a live connection; offline, the
linter can only read its source (operation calls and literal SQL). Findings for it may be
incomplete, and ``alembic upgrade --sql`` cannot produce a reviewable script for it.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if not analysis.rendered and analysis.static.get_bind_lines:
            yield Hit(
                "revision queries the database through op.get_bind() and cannot be rendered "
                f"offline ({analysis.render_error}); analysed statically instead",
                analysis,
                analysis.static.get_bind_lines[0],
            )


RULE = Rule(
    "EC002",
    "static-analysis-only",
    Severity.WARNING,
    "a revision can only be analysed statically (it queries the database)",
    __doc__ or "",
    "move data work into a migrate revision using op.migrate_backfill (batched, resumable SQL), "
    "which renders offline",
    check,
)
