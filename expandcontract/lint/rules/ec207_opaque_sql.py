"""EC207 opaque-sql: a ``DO`` block in an expand or migrate revision.

Why: procedural code hides its statements from the classifier, so neither this linter nor
runtime phase policing can tell whether it drops or rewrites what the running release uses.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import LIVE, Hit, LintContext, Rule, each_change, phase_name
from expandcontract.sql import Effect


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, LIVE):
        if change.effect is Effect.OPAQUE:
            yield Hit(
                f"procedural block in {phase_name(analysis)} cannot be checked",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC207",
    "opaque-sql",
    Severity.WARNING,
    "DO block the phase checks cannot see into",
    __doc__ or "",
    "write the statements as plain SQL (or typed operations); suppress with a reason if the "
    "block only does additive work",
    check,
)
