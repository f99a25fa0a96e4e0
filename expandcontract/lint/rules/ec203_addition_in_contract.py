"""EC203 addition-in-contract: a new table, column or index in a contract revision.

Why: contract runs after the new release has been live and stable; that release cannot have
used something that did not exist yet, so an addition here is either dead weight or a sign
the change was put on the wrong branch (and it is then held back by the soak period).
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change, target
from expandcontract.phases import Phase

_ADDITIONS = frozenset({"create_table", "add_column", "create_index"})


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, {Phase.CONTRACT}):
        if change.kind in _ADDITIONS:
            yield Hit(
                f"{change.kind.replace('_', ' ')} {target(change)} in a contract revision: "
                "additions belong in expand",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC203",
    "addition-in-contract",
    Severity.WARNING,
    "additive change in a contract revision",
    __doc__ or "",
    "move it to an expand revision (expandcontract revision --phase expand)",
    check,
)
