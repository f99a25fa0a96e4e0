"""EC119 not-null-default-dropped: a NOT NULL column added with a default that is dropped again.

Why: adding ``col NOT NULL DEFAULT x`` is safe because the running release's ``INSERT``s, which
do not name ``col``, get the default. Dropping that default in the same revision (a common way
to "backfill" a required column) takes that away: from then on every insert of the release
that does not know ``col`` fails with a NOT NULL violation (squawk's ``ban-drop-default``).
Tables created in the same revision are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import RevisionAnalysis, Severity, Statement, table_identity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, target
from expandcontract.sql import Change


def hazards(analysis: RevisionAnalysis) -> list[tuple[Statement, Change]]:
    """``DROP DEFAULT`` statements on NOT NULL columns this revision added with a default."""
    added: set[tuple[str, str]] = set()
    found = []
    for statement, change in analysis.changes():
        if not change.table or not change.column:
            continue
        key = (table_identity(change.table), change.column.lower())
        if change.kind == "add_column" and {"not_null", "default"} <= change.flags:
            added.add(key)
        elif (
            change.kind == "drop_default"
            and key in added
            and not analysis.is_new_table(change.table)
        ):
            found.append((statement, change))
    return found


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        for statement, change in hazards(analysis):
            yield Hit(
                f"the default of NOT NULL column {target(change)} is dropped right after it was "
                "added: every INSERT of the release that does not know the column fails",
                analysis,
                statement.line,
                change.sql,
            )


RULE = Rule(
    "EC119",
    "not-null-default-dropped",
    Severity.ERROR,
    "default of a new NOT NULL column dropped in the same revision",
    __doc__ or "",
    "keep the default until contract (drop it there, once no live release inserts without the "
    "column), or add the column nullable and use the add_not_null_column pattern",
    check,
)
