"""EC107 drop-column: ``DROP COLUMN`` in an expand or migrate revision.

Why: expand and migrate run while the previous release still serves traffic, and it selects
and inserts that column. Dropping is what contract is for, once no live release uses the
column. A reasoned ``expandcontract_exemptions = {"drop_column": "..."}`` in the revision
(the one runtime policing honours) silences it.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import (
    LIVE,
    Hit,
    LintContext,
    Rule,
    each_change,
    phase_name,
    phasing_hint,
    target,
)


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, LIVE, honour_exemptions=True):
        if change.kind == "drop_column":
            yield Hit(
                f"dropping column {target(change)} in {phase_name(analysis)} breaks "
                "the release still running" + phasing_hint(analysis, "drop"),
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC107",
    "drop-column",
    Severity.ERROR,
    "column dropped before contract",
    __doc__ or "",
    "move the drop to a contract revision (expandcontract revision --phase contract)",
    check,
)
