"""EC305 contract-without-expand: a contract revision that depends on no expand or migrate revision.

Why: a contract finishes a change that expand started and the new release adopted. One whose
dependency path holds no expand or migrate revision removes something nobody prepared a
replacement for: the guard cannot tie it to a release that ran on an expanded schema.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import EARLY, Hit, LintContext, Rule
from expandcontract.phases import Phase


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if analysis.phase is not Phase.CONTRACT:
            continue
        if any(dep.phase in EARLY for dep in ctx.dependencies(analysis)):
            continue
        assignments = analysis.static.assignments
        yield Hit(
            "contract revision depends on no expand or migrate revision",
            analysis,
            assignments.get("depends_on") or assignments.get("down_revision"),
        )


RULE = Rule(
    "EC305",
    "contract-without-expand",
    Severity.WARNING,
    "contract revision with no expand/migrate revision before it",
    __doc__ or "",
    "set depends_on to the expand/migrate revisions this contract finishes "
    "(expandcontract revision --phase contract does it by default)",
    check,
)
