"""EC401 removes-release-usage: expand or migrate removes something a listed release uses.

Why: with ``--metadata RELEASE=MODULE:ATTR`` the linter knows which tables and columns each
live release's SQLAlchemy models use. An expand or migrate revision that drops, renames or
retypes one of them breaks that release while it still serves traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import LIVE, Hit, LintContext, Rule, each_change, target
from expandcontract.sql import removes
from expandcontract.usage import removed_in_use


def check(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.releases:
        return
    for analysis, statement, change in each_change(ctx, LIVE):
        removed = removes(change)  # the one definition policing and the guard use too
        if removed is None or not removed.table:
            continue
        users = [
            name
            for name, usage in ctx.releases
            if removed_in_use(usage, removed.table, removed.column)
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
