"""EC303 no-phase-branch: a revision on no phase branch (or on several).

Why: the phase decides everything: when the revision may run, what it may do, whether the
contract guard stands in front of it. A revision after the baseline on no ``expand``/``migrate``/
``contract`` branch escapes all of that (and is judged as running while either release is
live). Legacy revisions, at or before the baseline ``expandcontract adopt`` records, have no
phase by definition and are not reported. A project with neither a baseline nor any phase
branch has not adopted expandcontract yet: one finding says so, instead of one per revision.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.adopted:
        count = len(ctx.history.revisions)
        yield Hit(
            f"this project has not adopted expandcontract: no baseline is recorded and none of "
            f"its {count} revisions is on a phase branch. Run `expandcontract adopt` to record "
            "the current head(s) as the baseline (the history before it is legacy and not "
            "linted); new revisions then go on phase branches",
            None,
            None,
            file=ctx.env_path.parent,
        )
        return
    for analysis in ctx.revisions:
        if analysis.phase is not None or analysis.legacy:
            continue
        assignments = analysis.static.assignments
        line = assignments.get("branch_labels") or assignments.get("revision")
        yield Hit(
            analysis.phase_error
            or f"revision {analysis.revision} comes after the baseline but is on no phase "
            "branch (expand, migrate, contract)",
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
