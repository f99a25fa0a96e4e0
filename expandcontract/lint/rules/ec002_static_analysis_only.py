"""EC002 static-analysis-only: the revision could not be rendered, so it was read statically.

Why: a revision that reads through ``op.get_bind()`` needs a live connection; one that imports
a package not installed where the linter runs, or whose ``upgrade()`` takes arguments only the
project's env.py supplies, cannot be run here either. The linter then reads its source
(operation calls and literal SQL): findings for it may be incomplete. The notice says why.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if analysis.static_reason is None:
            continue
        line = (
            analysis.static.get_bind_lines[0]
            if analysis.static.get_bind_lines
            else analysis.render_error_line or analysis.static.assignments.get("revision")
        )
        yield Hit(
            f"analysed statically (findings may be incomplete): {analysis.static_reason}",
            analysis,
            line,
        )


RULE = Rule(
    "EC002",
    "static-analysis-only",
    Severity.WARNING,
    "a revision can only be analysed statically",
    __doc__ or "",
    "install the project's packages where `check` runs (or put them on prepend_sys_path); move "
    "data work into a migrate revision using op.migrate_backfill, which renders offline",
    check,
)
