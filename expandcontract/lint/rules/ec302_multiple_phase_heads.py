"""EC302 multiple-phase-heads: a phase branch has more than one head.

Why: ``upgrade expand@head`` (and the guard's view of what contract depends on) needs one
head per phase. Two heads usually mean two pull requests each added a revision to the same
branch; which runs first is then undefined.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import RevisionAnalysis, Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule
from expandcontract.phases import PHASE_ORDER


def check(ctx: LintContext) -> Iterator[Hit]:
    for phase in PHASE_ORDER:
        members = [a for a in ctx.revisions if a.phase is phase]
        parents = {parent for a in members for parent in a.node.down_revisions}
        heads: list[RevisionAnalysis] = [a for a in members if a.revision not in parents]
        if len(heads) < 2:
            continue
        ids = " ".join(sorted(a.revision for a in heads))
        for head in heads:
            yield Hit(
                f"the {phase} branch has {len(heads)} heads ({ids})",
                head,
                head.static.assignments.get("down_revision"),
            )


RULE = Rule(
    "EC302",
    "multiple-phase-heads",
    Severity.ERROR,
    "more than one head on a phase branch",
    __doc__ or "",
    "merge them: alembic merge -m 'merge <phase>' <head1> <head2>",
    check,
)
