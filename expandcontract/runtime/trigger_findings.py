"""What a statement's row triggers can do to the running release's writes.

Policing (:mod:`expandcontract.runtime.policing`) asks this for every statement it judges: a
``CREATE TRIGGER`` or a replaced trigger function is followed by a destructive
``trigger_returns_null`` change when the trigger can make the app's writes vanish, or by a
neutral ``trigger_judged`` one when it provably returns the row. ``created`` is what this run
added (no release writes those tables yet), ``sources`` the trigger functions this run created
(read back when a later statement attaches them), ``why`` collects each finding's explanation.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from expandcontract.sql import SqlParseError
from expandcontract.sql.classify import Change, Effect
from expandcontract.sql.triggers import (
    decides_rows,
    discards_writes,
    function_definition,
    row_ops,
)

_FUNCTION_SOURCE = (
    "SELECT l.lanname, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
    "WHERE p.oid = to_regprocedure(%s)"
)
_TRIGGERS_USING = (
    "SELECT n.nspname || '.' || c.relname, t.tgname, t.tgtype FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE t.tgfoid = to_regprocedure(%s) AND NOT t.tgisinternal ORDER BY 1, 2"
)


def _signature(name: str) -> str:
    """``"schema"."name"()``: a trigger function takes no arguments; the parser already
    resolved the name's case, so every part is quoted as it is."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".")) + "()"


def catalog(dbapi_connection: Any, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A catalog lookup through the raw DB-API cursor: no SQLAlchemy event fires, so the
    lookup is not judged itself."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(query, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _created_in_run(created: Collection[tuple[str, str | None]], table: str | None) -> bool:
    return table is not None and (table.rsplit(".", 1)[-1], None) in created


def with_trigger_findings(
    changes: list[Change],
    dbapi_connection: Any,
    *,
    created: Collection[tuple[str, str | None]],
    sources: dict[str, tuple[str | None, str | None]],
    why: dict[int, str],
) -> list[Change]:
    """``changes``, each followed by what its row triggers can do to the running release.

    A row trigger that runs BEFORE (or INSTEAD OF) a write on a table the running release
    writes can make those writes vanish (:mod:`expandcontract.sql.triggers`): creating one,
    or replacing the function one runs, adds a destructive ``trigger_returns_null`` change
    unless the function provably returns the row; ``trigger_judged`` marks one found harmless.
    The function is read from the catalog at the time of the statement (it holds this
    revision's own ``CREATE FUNCTION`` by then), or from this run's ``CREATE FUNCTION`` text.
    """
    found: list[Change] = []
    for change in changes:
        found.append(change)
        verdicts: list[tuple[str | None, str | None, str]] = []  # (table, trigger, reason)
        judged = False
        if change.kind == "create_function":
            try:
                definition = function_definition(change.sql)
            except SqlParseError:
                definition = None
            if definition is None or not definition.returns_trigger:
                continue
            sources[definition.name] = (definition.language, definition.source)
            users = (
                catalog(dbapi_connection, _TRIGGERS_USING, (_signature(definition.name),))
                if dbapi_connection is not None
                else []
            )
            for table, trigger, tgtype in users:
                if not decides_rows(tgtype) or _created_in_run(created, table):
                    continue
                judged = True
                reason = discards_writes(definition.language, definition.source, row_ops(tgtype))
                if reason:
                    verdicts.append((table, trigger, reason))
        elif change.kind == "create_trigger" and "decides_rows" in change.flags:
            if _created_in_run(created, change.table):
                found.append(Change("trigger_judged", Effect.NEUTRAL, change.sql))
                continue
            judged = True
            function = next(iter(change.calls), "")
            rows = (
                catalog(dbapi_connection, _FUNCTION_SOURCE, (_signature(function),))
                if dbapi_connection is not None
                else []
            )
            language, source = rows[0] if rows else sources.get(function, (None, None))
            ops = frozenset(
                op.upper() for op in ("insert", "update", "delete") if op in change.flags
            )
            reason = discards_writes(language, source, ops)
            if reason:
                verdicts.append((change.table, change.name, reason))
        for table, trigger, reason in verdicts:
            # No name: the trigger was just created by this very statement, which must not
            # count as "removing what this run added".
            finding = Change("trigger_returns_null", Effect.DESTRUCTIVE, change.sql, table=table)
            why[id(finding)] = f"row trigger {trigger}: {reason}"
            found.append(finding)
        if judged and not verdicts:
            found.append(Change("trigger_judged", Effect.NEUTRAL, change.sql))
    return found
