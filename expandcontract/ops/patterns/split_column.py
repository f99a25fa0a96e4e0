"""Split one column into several (``address`` → ``street``, ``city``, ``state``, ``zip``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from expandcontract.ops.add_column import AddColumn
from expandcontract.ops.backfill import RunBackfill
from expandcontract.ops.base import PhasedOperation
from expandcontract.ops.drop_column import DropColumn
from expandcontract.ops.drop_sync_trigger import DropSyncTrigger
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.patterns.base import Pattern
from expandcontract.ops.sqltext import TypeLike, bare, ident, qualified, sibling, type_sql
from expandcontract.ops.sync_trigger import Direction, InstallSyncTrigger
from expandcontract.phases import Phase


class SplitColumn(Pattern):
    """One column becomes several, with both releases writing during the change.

    ``parse`` is the body of an SQL function ``<name>_parse(value <old_type>)`` returning exactly
    one row ``(<each new column>, reject_reason text)``; a non-NULL ``reject_reason`` marks a
    value that cannot be split. ``compose`` is the body of ``<name>_compose(<new columns>)``
    returning the old column's value. Both are defined once and used by the sync trigger (live
    writes) and the backfill (old rows) alike::

        ADDRESS = SplitColumn(
            "customers", "address", {"street": "text", "city": "text", "zip": "varchar(5)"},
            parse="SELECT m[1], m[2], m[3], CASE WHEN m IS NULL THEN 'no match' END "
                  "FROM regexp_match(value, '^(.+), (.+), ([0-9]{5})$') AS m",
            compose="SELECT street || ', ' || city || ', ' || zip",
        )

    Speed: both functions are ``LANGUAGE sql``, not STRICT, with no ``SET`` clause, so PostgreSQL
    inlines them into the trigger's and the backfill's statements: write ``parse`` as one
    ``SELECT`` (no CTE, no set-returning function per row; ``split_part``, ``btrim`` and anchored
    regular expressions are cheap, a lazy ``(.*?)`` is not) and put ``OFFSET 0`` on a subquery
    whose columns are used several times, or the planner copies the expression into every use:
    that includes ``reject_reason``, which the trigger and the backfill read once per new column.
    Recognise a well-formed value with one cheap test and walk the rules for the reason only
    when it fails, in a helper function the parse calls (PL/pgSQL, so it is never inlined): the
    sync trigger runs the parse as a fresh statement on every write, and PostgreSQL prepares
    every expression in it for each run, the branches never taken included. The columns the
    parse gives for a rejected value are ignored (the trigger leaves the new columns NULL, the
    backfill leaves them as they are). ``alembic/versions/0002_split_address.py`` of the
    reference project shows one (about 1.8 us of CPU per row in bulk).

    ``helpers`` are further functions (:class:`~expandcontract.ops.functions.SqlFunction`) that
    ``parse`` or ``compose`` call: installed before them with the trigger, dropped with it.

    - expand: the new columns (nullable) and a two-way sync trigger: a write setting only the old
      column fills the new ones (unparseable: left NULL, never an error), a write setting the new
      ones fills the old one;
    - migrate: the backfill; unparseable rows are quarantined with their reason, never changed;
    - contract: drop the trigger and the old column, refused until every row is split. Rows the
      application wrote after the backfill ran are caught up first (the backfill runs again:
      converted, or quarantined and named in the refusal).
    """

    name = "split_column"

    def __init__(
        self,
        table: str,
        column: str,
        into: dict[str, TypeLike],
        *,
        parse: str,
        compose: str,
        old_type: TypeLike = "text",
        name: str | None = None,
        time_budget: float = 0.2,
        helpers: Sequence[SqlFunction] = (),
    ) -> None:
        self.table = table
        self.column = column
        self.into = dict(into)
        self.old_type = old_type
        self.base = name or f"{bare(table)}_{column}_split"
        self.time_budget = time_budget
        self.helpers = tuple(helpers)
        self.parse = SqlFunction(
            sibling(table, f"{self.base}_parse"),
            f"value {type_sql(old_type)}",
            "TABLE("
            + ", ".join(f"{ident(c)} {type_sql(t)}" for c, t in self.into.items())
            + ", reject_reason text)",
            parse,
            volatility="STABLE",
        )
        self.compose = SqlFunction(
            sibling(table, f"{self.base}_compose"),
            ", ".join(f"{ident(c)} {type_sql(t)}" for c, t in self.into.items()),
            type_sql(old_type),
            compose,
            volatility="STABLE",
        )

    @property
    def pending(self) -> str:
        """Rows whose old value has not been split yet (table aliased ``t``)."""
        new = ", ".join(f"t.{ident(c)}" for c in self.into)
        return f"t.{ident(self.column)} IS NOT NULL AND num_nonnulls({new}) = 0"

    def trigger(self) -> InstallSyncTrigger:
        column = ident(self.column)
        return InstallSyncTrigger(
            f"{self.base}_sync",
            self.table,
            old_columns=[self.column],
            new_columns=list(self.into),
            forward=Direction(
                {c: f"p.{ident(c)}" for c in self.into},
                source=f"{qualified(self.parse.name)}(NEW.{column}) AS p",
                reject_reason="p.reject_reason",
            ),
            backward=Direction(
                {
                    self.column: f"{qualified(self.compose.name)}("
                    + ", ".join(f"NEW.{ident(c)}" for c in self.into)
                    + ")"
                }
            ),
            # Helpers first: PostgreSQL checks a SQL function's body when it is created.
            functions=[*self.helpers, self.parse, self.compose],
        )

    def backfill(self) -> RunBackfill:
        return RunBackfill(
            self.base,
            self.table,
            {c: f"p.{ident(c)}" for c in self.into},
            pending=self.pending,
            reject_reason="p.reject_reason",
            original=f"t.{ident(self.column)}::text",
            source=f"LATERAL {qualified(self.parse.name)}(t.{ident(self.column)}) AS p",
            time_budget=self.time_budget,
        )

    def operations(self, phase: Phase) -> list[PhasedOperation]:
        if phase is Phase.EXPAND:
            return [
                *(AddColumn(self.table, c, t) for c, t in self.into.items()),
                self.trigger(),
            ]
        if phase is Phase.MIGRATE:
            return [self.backfill()]
        return [
            DropSyncTrigger(
                self.trigger().trigger,
                self.table,
                after_backfill=self.backfill(),
                definition=self.trigger(),
            ),
            DropColumn(
                self.table,
                self.column,
                after_backfill=self.backfill(),
                type_=self.old_type,
            ),
        ]

    def revert(self, op: Any, phase: Phase | str) -> None:
        super().revert(op, phase)
        if Phase.parse(str(phase)) is Phase.CONTRACT:
            # The old column came back empty: compose it again from the new columns.
            compose = (
                f"{qualified(self.compose.name)}("
                + ", ".join(f"t.{ident(c)}" for c in self.into)
                + ")"
            )
            op.invoke(
                RunBackfill(
                    f"{self.base}_restore",
                    self.table,
                    {self.column: compose},
                    pending=f"t.{ident(self.column)} IS NULL AND {compose} IS NOT NULL",
                    time_budget=self.time_budget,
                )
            )
