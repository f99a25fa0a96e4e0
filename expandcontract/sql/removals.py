"""The one definition of "this change removes something" (DESIGN §5).

Phase policing, the contract guard's usage check and the linter all ask :func:`removes`, so
they cannot disagree about what a release loses.
"""

from __future__ import annotations

from dataclasses import dataclass

from expandcontract.sql.classify import Change


@dataclass(frozen=True)
class Removed:
    """Something a change takes away from a release that still uses the old shape."""

    what: str  # table, column, schema, type, default, nullability
    table: str | None = None
    column: str | None = None
    name: str | None = None

    def describe(self) -> str:
        target = ".".join(p for p in (self.table, self.column) if p) or self.name or "?"
        return f"{self.what} {target}"


# The one definition of "this change removes something", for policing, the guard's usage
# check and the linter. A kind not listed here removes nothing a release reads by name.
REMOVAL_KINDS: dict[str, str] = {
    "drop_table": "table",
    "rename_table": "table",
    "set_schema": "table",
    "drop_view": "table",
    "truncate": "table",
    "drop_column": "column",
    "rename_column": "column",
    "alter_column_type": "column",
    "drop_schema": "schema",
    "drop_type": "type",
    "rename_enum_value": "type",
    "drop_default": "default",
    "set_not_null": "nullability",
}
# What nobody can tell from the statement alone: a usage check must fail closed on these.
UNSEEN_KINDS = frozenset({"do_block", "call", "function_call", "cascade", "drop_owned"})


def removes(change: Change) -> Removed | None:
    """What ``change`` takes away (table, column, schema, type, default, nullability), if anything."""
    what = REMOVAL_KINDS.get(change.kind)
    if what is None or not change.destructive:
        return None
    if what in ("schema", "type"):
        return Removed(what, name=change.name or change.table)
    if what == "table":
        return Removed(what, table=change.table or change.name)
    return Removed(what, table=change.table, column=change.column)
