"""EC303 no-phase-branch: a revision on no phase branch (or on several).

Why: the phase decides everything: when the revision may run, what it may do, whether the
contract guard stands in front of it. A revision on no ``expand``/``migrate``/``contract``
branch escapes all of that.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if analysis.phase is not None:
            continue
        assignments = analysis.static.assignments
        line = assignments.get("branch_labels") or assignments.get("revision")
        yield Hit(
            analysis.phase_error
            or f"revision {analysis.revision} is on no phase branch (expand, migrate, contract)",
            analysis,
            line,
        )


RULE = Rule(
    "EC303",
    "no-phase-branch",
    Severity.ERROR,
    "revision on no phase branch",
    __doc__ or "",
    "create revisions with `expandcontract revision --phase PHASE`; a branch root carries "
    "branch_labels=('expand',) / ('migrate',) / ('contract',)",
    check,
)
