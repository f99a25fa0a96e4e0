"""EC116 table-rewrite: a statement that rewrites or locks a whole table for its duration.

Why: ``ALTER TABLE ... SET TABLESPACE / SET LOGGED / SET UNLOGGED / SET ACCESS METHOD``,
``CLUSTER``, ``VACUUM FULL`` and a plain ``REINDEX`` hold an ACCESS EXCLUSIVE (or SHARE) lock
while they copy the table or its indexes: both releases stall, for minutes on a large table.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule, each_change

_REWRITING_ALTERS = frozenset({"SetTableSpace", "SetLogged", "SetUnLogged", "SetAccessMethod"})


def _rewrite(kind: str, name: str | None, flags: frozenset[str]) -> str | None:
    if kind == "alter_table_other" and name in _REWRITING_ALTERS:
        return f"ALTER TABLE ... {name}"
    if kind == "cluster":
        return "CLUSTER"
    if kind == "vacuum" and "full" in flags:
        return "VACUUM FULL"
    if kind == "reindex" and "concurrently" not in flags:
        return "REINDEX without CONCURRENTLY"
    return None


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis, statement, change in each_change(ctx):
        what = _rewrite(change.kind, change.name, change.flags)
        if what and not analysis.is_new_table(change.table):
            yield Hit(
                f"{what} rewrites or locks the whole table while it runs",
                analysis,
                statement.line,
                statement.sql,
            )


RULE = Rule(
    "EC116",
    "table-rewrite",
    Severity.ERROR,
    "statement that rewrites or exclusively locks a whole table",
    __doc__ or "",
    "REINDEX ... CONCURRENTLY; for tablespace/logged changes or reclaiming space, use pg_repack "
    "or a new table filled by op.migrate_backfill outside the migration",
    check,
)
