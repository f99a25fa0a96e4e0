"""expand: a trigger that keeps the old and the new shape of a table in step, both ways."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from expandcontract.backfill.batch import error_message
from expandcontract.backfill.spec import BACKFILL_SESSION_FLAG
from expandcontract.ops.base import (
    OperationError,
    PhasedOperation,
    live_connection,
    register,
    run_sql,
)
from expandcontract.ops.catalog import trigger_runs_other_function
from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.sqltext import ident, qualified, short_name, sibling
from expandcontract.phases import Phase

# The backfill computes the new columns from the old ones itself: there is nothing to sync in
# its own writes. Tested in the UPDATE trigger's WHEN clause, not in the function: the executor
# evaluates a WHEN clause without calling the function, which on every row of a backfill batch
# costs a sizeable share of the row's own update (a PL/pgSQL call per row).
SKIP_BACKFILL = f"current_setting('{BACKFILL_SESSION_FLAG}', true) IS DISTINCT FROM 'on'"


def trigger_function(table: str, trigger: str) -> str:
    """The name of the function a sync trigger runs (beside its table, named after it)."""
    return sibling(table, f"{trigger}_fn")


def insert_trigger(trigger: str) -> str:
    """The name of a sync trigger's INSERT half (``trigger`` itself fires on UPDATE).

    Two triggers, one function: the backfill only updates, so inserts need no ``WHEN`` clause,
    and PostgreSQL reads a trigger's ``WHEN`` clause back from the catalog and prepares it for
    every statement that fires it. Without it, a single-row insert costs 8 to 15 us less
    (pgbench, p50, four runs: 35-52 us of trigger overhead with it, 27-37 us without).
    """
    return short_name(trigger, suffix="insert")


@dataclass(frozen=True)
class Direction:
    """How to fill one side from the other inside the trigger (the row is ``NEW``).

    ``assign`` maps each target column to an SQL expression; ``source`` is an optional FROM
    item the expressions may use (``"my_parse(NEW.address) AS p"``); when ``reject_reason`` is
    non-NULL the value cannot be converted and the targets are set to NULL instead (the write
    itself never fails; the backfill quarantines the row).
    """

    assign: dict[str, str]
    source: str | None = None
    reject_reason: str | None = None

    def probe(self, table: str) -> str:
        """A query PostgreSQL plans but never runs: are the names and types in it right?"""
        values = [*self.assign.values(), *([self.reject_reason] if self.reject_reason else [])]
        # NEW inside the trigger is the row; here the table aliased "new" plays that part.
        source = f", {self.source}" if self.source else ""
        return f"SELECT {', '.join(values)} FROM {qualified(table)} AS new{source} LIMIT 0"

    def matches(self) -> str:
        """Sets ``unchanged``: do the targets already hold what this direction would compute?"""
        targets = list(self.assign)
        computed = ", ".join(self.assign[c] for c in targets)
        current = ", ".join(f"NEW.{ident(c)}" for c in targets)
        test = f"ROW({computed}) IS NOT DISTINCT FROM ROW({current})"
        if self.reject_reason:
            test += f" AND ({self.reject_reason}) IS NULL"
        return f"SELECT {test} INTO unchanged" + (f" FROM {self.source};" if self.source else ";")

    def statements(self) -> str:
        targets = list(self.assign)
        values = [self.assign[c] for c in targets]
        if self.reject_reason:
            # What a rejected value would give is never stored (nor cast to the column type).
            values = [f"CASE WHEN ({self.reject_reason}) IS NULL THEN {v} END" for v in values]
        into = ", ".join(f"NEW.{ident(c)}" for c in targets)
        sql = f"SELECT {', '.join(values)} INTO {into}"
        return sql + (f" FROM {self.source};" if self.source else ";")


@register
@dataclass(eq=False)
class InstallSyncTrigger(PhasedOperation):
    """Keep the old columns and the new columns of ``table`` in step while both releases run.

    A ``BEFORE UPDATE`` trigger named ``trigger`` and a ``BEFORE INSERT`` one beside it
    (:func:`insert_trigger`), both running one function: a write that sets only old columns
    (the old release) fills the new ones through ``forward``; a write that sets only new
    columns (the new release) fills the old ones through ``backward``. A write that sets both
    is left alone, and so is a write of new columns equal to the conversion of the old value
    (the backfill's own UPDATE): the original value is never rewritten.
    With no ``old_columns`` it is a one-way fill: ``forward`` runs whenever every new column is
    NULL after the write. ``functions`` are helpers installed with the trigger (and dropped with
    it), e.g. one parse and one compose function the backfill calls too::

        op.expand_sync_trigger(
            "customers_address_sync", "customers",
            old_columns=["address"], new_columns=["street", "city"],
            forward=Direction({"street": "p.street", "city": "p.city"},
                              source="split_address(NEW.address) AS p",
                              reject_reason="p.reject_reason"),
            backward=Direction({"address": "compose_address(NEW.street, NEW.city)"}),
            functions=[split_address, compose_address],
        )
    """

    trigger: str
    table: str
    old_columns: Sequence[str]
    new_columns: Sequence[str]
    forward: Direction
    backward: Direction | None = None
    functions: Sequence[SqlFunction] = field(default_factory=tuple)

    name = "expand_sync_trigger"
    phase = Phase.EXPAND

    @property
    def function_name(self) -> str:
        return trigger_function(self.table, self.trigger)

    @property
    def insert_trigger(self) -> str:
        return insert_trigger(self.trigger)

    def validate(self, context: MigrationContext) -> None:
        if self.insert_trigger == self.trigger[:63]:  # PostgreSQL truncates names to 63
            raise OperationError(
                f"{self.name} {self.trigger}: the name leaves no room for its INSERT trigger "
                f"({self.insert_trigger!r}); choose a shorter one"
            )
        if not self.new_columns:
            raise OperationError(f"{self.name} {self.trigger}: new_columns is empty")
        if self.backward is not None and not self.old_columns:
            raise OperationError(f"{self.name} {self.trigger}: backward needs old_columns")
        connection = live_connection(context)
        if connection is not None and trigger_runs_other_function(
            connection, self.table, self.insert_trigger, self.function_name
        ):
            # CREATE OR REPLACE would silently replace somebody else's trigger.
            raise OperationError(
                f"{self.name} {self.trigger}: {self.table} already has a trigger named "
                f"{self.insert_trigger!r} (the name of this sync trigger's INSERT half) that "
                "runs another function; rename that trigger or choose another name"
            )

    def _written(self, columns: Sequence[str]) -> tuple[str, str]:
        """(on INSERT, on UPDATE) expressions: did this write set these columns?"""
        new = ", ".join(f"NEW.{ident(c)}" for c in columns)
        old = ", ".join(f"OLD.{ident(c)}" for c in columns)
        return f"num_nonnulls({new}) > 0", f"ROW({new}) IS DISTINCT FROM ROW({old})"

    def _body(self) -> str:
        new_insert, new_update = self._written(self.new_columns)
        if self.old_columns:
            old_insert, old_update = self._written(self.old_columns)
            forward_when = "old_written AND NOT new_written"
        else:
            old_insert = old_update = "false"
            all_new_null = ", ".join(f"NEW.{ident(c)}" for c in self.new_columns)
            forward_when = f"num_nonnulls({all_new_null}) = 0"
        # A write of new columns that equals the conversion of the old value (the backfill's
        # own UPDATE) carries no news: rewriting the old column from it would change the
        # original value (a composed address is not byte-for-byte what blue wrote).
        backward = (
            f"""
    ELSIF new_written AND NOT old_written THEN
        {self.forward.matches()}
        IF unchanged IS NOT TRUE THEN
            {self.backward.statements()}
        END IF;"""
            if self.backward
            else ""
        )
        return f"""
DECLARE
    old_written boolean;
    new_written boolean;
    unchanged boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        old_written := {old_insert};
        new_written := {new_insert};
    ELSE
        old_written := {old_update};
        new_written := {new_update};
    END IF;
    IF {forward_when} THEN
            {self.forward.statements()}{backward}
    END IF;
    RETURN NEW;
END"""

    def plan(self) -> list[str]:
        # STABLE: the function changes NEW, never the database, so PostgreSQL may run it
        # read-only, with the writing statement's snapshot, instead of taking a new snapshot
        # (and a command counter step) for every statement and expression in it. That is
        # about 4 us of the 25 us it adds to a single-row insert transaction. A volatile
        # function a direction calls still runs as volatile (its own writes included).
        trigger_function = SqlFunction(
            self.function_name, "", "trigger", self._body(), "plpgsql", "STABLE"
        )
        return [
            *(function.create_sql() for function in self.functions),
            trigger_function.create_sql(),
            # Replaces a trigger an earlier version installed for INSERT OR UPDATE.
            f"CREATE OR REPLACE TRIGGER {ident(self.trigger)} BEFORE UPDATE "
            f"ON {qualified(self.table)} FOR EACH ROW WHEN ({SKIP_BACKFILL}) "
            f"EXECUTE FUNCTION {qualified(self.function_name)}()",
            f"CREATE OR REPLACE TRIGGER {ident(self.insert_trigger)} BEFORE INSERT "
            f"ON {qualified(self.table)} FOR EACH ROW "
            f"EXECUTE FUNCTION {qualified(self.function_name)}()",
        ]

    def apply(self, operations: Operations) -> None:
        statements = self.plan()
        helpers, trigger = statements[: len(self.functions)], statements[len(self.functions) :]
        for statement in helpers:
            run_sql(operations, statement)
        connection = live_connection(operations.get_context())
        if connection is not None:
            self._probe(connection)
        for statement in trigger:
            run_sql(operations, statement)

    def _probe(self, connection: Connection) -> None:
        """Fail the migration now, not the app's first write, on a wrong name in an expression.

        PL/pgSQL checks the expressions of a trigger only when it first runs.
        """
        for label, direction in (("forward", self.forward), ("backward", self.backward)):
            if direction is None:
                continue
            try:
                with connection.begin_nested():
                    connection.execute(sa.text(direction.probe(self.table).replace(":", "\\:")))
            except sa.exc.DBAPIError as err:
                raise OperationError(
                    f"{self.name} {self.trigger}: the {label} direction does not work on "
                    f"{self.table}: {error_message(err)}"
                ) from err

    def reverse(self) -> PhasedOperation:
        from expandcontract.ops.drop_sync_trigger import DropSyncTrigger

        return DropSyncTrigger(self.trigger, self.table, definition=self)
