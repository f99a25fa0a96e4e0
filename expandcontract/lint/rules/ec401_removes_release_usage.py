"""EC401 removes-release-usage: expand or migrate removes something a listed release uses.

Why: with ``--metadata RELEASE=MODULE:ATTR`` the linter knows which tables and columns each
live release's SQLAlchemy models use. An expand or migrate revision that drops, renames or
retypes one of them breaks that release while it still serves traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.guard import REMOVALS
from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import LIVE, Hit, LintContext, Rule, each_change, target
from expandcontract.usage import removed_in_use


def check(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.releases:
        return
    for analysis, statement, change in each_change(ctx, LIVE):
        if change.kind not in REMOVALS or not change.table:
            continue
        column = change.column if "column" in change.kind else None
        users = [
            name for name, usage in ctx.releases if removed_in_use(usage, change.table, column)
        ]
        if users:
            yield Hit(
                f"{change.describe()} removes {target(change)}, which release "
                f"{', '.join(users)} still uses",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC401",
    "removes-release-usage",
    Severity.ERROR,
    "expand/migrate removes schema a listed release uses",
    __doc__ or "",
    "keep the old shape until contract; use the matching pattern (rename, change type, split)",
    check,
)
