"""EC402 contract-drops-live-usage: contract drops something the newest listed release uses.

Why: contract may only remove what no running release needs. The newest release passed with
``--metadata`` is the one that stays live after contract; if its models still map the column
or table, it fails the moment contract commits.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target
from expandcontract.phases import Phase
from expandcontract.sql import removes
from expandcontract.usage import removed_in_use


def check(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.releases:
        return
    newest, usage = ctx.releases[-1]
    for analysis, statement, change in each_change(ctx, {Phase.CONTRACT}):
        removed = removes(change)  # the one definition policing and the guard use too
        if removed is None or not removed.table:
            continue
        if removed_in_use(usage, removed.table, removed.column):
            yield Hit(
                f"contract {change.describe()} removes {target(change)}, which the newest "
                f"release {newest} still uses",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC402",
    "contract-drops-live-usage",
    Severity.ERROR,
    "contract removes schema the newest release uses",
    __doc__ or "",
    "deploy a release that no longer uses it and mark it stable first; then contract",
    check,
)
