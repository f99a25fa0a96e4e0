"""EC108 drop-table: ``DROP TABLE`` in an expand or migrate revision.

Why: the release still running during expand and migrate may read or write the table; the
drop belongs in contract, after the new release has soaked. Exemptions as for EC107.
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
)


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx, LIVE, honour_exemptions=True):
        if change.kind == "drop_table" and not analysis.is_new_table(change.table):
            yield Hit(
                f"dropping table {change.table} in {phase_name(analysis)} breaks the "
                "release still running" + phasing_hint(analysis, "drop"),
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC108",
    "drop-table",
    Severity.ERROR,
    "table dropped before contract",
    __doc__ or "",
    "move the drop to a contract revision",
    check,
)
