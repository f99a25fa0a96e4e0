"""EC304 missing-downgrade: an expand or migrate revision whose ``downgrade()`` does nothing.

Why: until contract, rolling back is the safety net of a blue-green release: the previous
release must be able to run again on a schema reverted to what it knew. Contract revisions are
exempt: after contract the way back is the pre-contract snapshot, not a downgrade.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import EARLY, Hit, LintContext, Rule, phase_name


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        if analysis.phase not in EARLY:
            continue
        facts = analysis.static
        if not facts.has_downgrade or facts.downgrade_is_noop:
            yield Hit(
                f"{phase_name(analysis)} has no working downgrade(): it cannot be rolled back",
                analysis,
                facts.downgrade_line,
            )


RULE = Rule(
    "EC304",
    "missing-downgrade",
    Severity.WARNING,
    "expand/migrate revision without a downgrade",
    __doc__ or "",
    "write downgrade() undoing upgrade() (drop what expand added; a migrate backfill may "
    "downgrade to a no-op with a comment and a suppression saying why)",
    check,
)
