"""EC001 render-failed: the revision raised while being rendered to SQL.

Why: ``alembic upgrade --sql`` and this linter run ``upgrade()`` without a database. A revision
that raises there (a typo, a bad argument to an operation, a missing import) will most likely
raise in production too, half-way through a deployment.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if analysis.render_error:
            yield Hit(
                f"upgrade() raised while rendering: {analysis.render_error}",
                analysis,
                analysis.render_error_line,
            )


RULE = Rule(
    "EC001",
    "render-failed",
    Severity.ERROR,
    "a revision raises when rendered offline",
    __doc__ or "",
    "fix the error; run `alembic upgrade <rev> --sql` to reproduce it",
    check,
)
