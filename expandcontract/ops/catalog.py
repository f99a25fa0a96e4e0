"""Questions operations ask the live database before they act."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.errors import PreconditionFailed
from expandcontract.ops.sqltext import qualified


def _regclass(connection: Connection, name: str) -> int | None:
    return connection.execute(
        sa.text("SELECT to_regclass(:name)::oid"), {"name": qualified(name)}
    ).scalar()


def table_exists(connection: Connection, table: str) -> bool:
    return _regclass(connection, table) is not None


def _exists(connection: Connection, query: str, **params: str) -> bool:
    return bool(connection.execute(sa.text(f"SELECT EXISTS ({query})"), params).scalar())


def column_exists(connection: Connection, table: str, column: str) -> bool:
    return _exists(
        connection,
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) "
        "AND attname = :c AND attnum > 0 AND NOT attisdropped",
        t=qualified(table),
        c=column,
    )


def index_state(connection: Connection, index: str) -> Literal["valid", "invalid"] | None:
    """Whether an index exists and is usable; ``invalid`` is a failed concurrent build's leftover."""
    row = connection.execute(
        sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": qualified(index)},
    ).first()
    if row is None:
        return None
    return "valid" if row.indisvalid else "invalid"


def constraint_exists(connection: Connection, table: str, name: str) -> bool:
    return _exists(
        connection,
        "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n",
        t=qualified(table),
        n=name,
    )


def trigger_exists(connection: Connection, table: str, name: str) -> bool:
    return _exists(
        connection,
        "SELECT 1 FROM pg_trigger "
        "WHERE tgrelid = to_regclass(:t) AND tgname = :n AND NOT tgisinternal",
        t=qualified(table),
        n=name,
    )


def trigger_runs_other_function(
    connection: Connection, table: str, name: str, function: str
) -> bool:
    """Does ``table`` have a trigger ``name`` that runs something other than ``function()``?"""
    return _exists(
        connection,
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :n "
        "AND NOT tgisinternal AND tgfoid IS DISTINCT FROM to_regprocedure(:f)",
        t=qualified(table),
        n=name,
        f=f"{qualified(function)}()",
    )


def referencing_constraints(connection: Connection, table: str) -> list[str]:
    """Foreign keys of *other* tables that point at ``table``."""
    rows = connection.execute(
        sa.text(
            "SELECT conrelid::regclass::text || '.' || conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(:t) AND conrelid <> confrelid"
        ),
        {"t": qualified(table)},
    )
    return [row[0] for row in rows]


def count_rows(connection: Connection, table: str, predicate: str) -> int:
    """Rows of ``table`` (aliased ``t``) matching ``predicate``."""
    return int(
        connection.execute(
            sa.text(f"SELECT count(*) FROM {qualified(table)} AS t WHERE {predicate}")
        ).scalar()
        or 0
    )


def require(condition: bool, message: str) -> None:
    if not condition:
        raise PreconditionFailed(message)


def require_column(connection: Connection, operation: str, table: str, column: str) -> None:
    """Refuse ``operation`` when ``table`` has no column ``column``."""
    require(
        column_exists(connection, table, column),
        f"{operation} refused: column {table}.{column} does not exist",
    )


def require_constraint(
    connection: Connection | None, operation: str, table: str, name: str
) -> None:
    """Refuse ``operation`` when constraint ``name`` is missing on ``table`` (offline: no check)."""
    if connection is not None:
        require(
            constraint_exists(connection, table, name),
            f"{operation} refused: constraint {name} does not exist on {table}",
        )
