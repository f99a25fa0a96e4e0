"""Customers in the database, through one release's view of the table.

Each function runs on the request's connection and commits its own write, so no request ever
leaves a transaction open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.engine import Connection

from app.errors import conflict, not_found
from app.releases import Release
from app.validation import possible_id


def _reading(
    connection: Connection, release: Release, statement: Callable[[sa.Table], Any]
) -> sa.CursorResult[Any]:
    """Run ``statement(read_table)``; if a column the release only reads while it exists is
    gone (the contract dropped it), run it again without."""
    table = release.read_table()
    try:
        return connection.execute(statement(table))
    except sa.exc.ProgrammingError as err:
        connection.rollback()
        # Several threads may meet the dropped column at once: each retries its own read.
        if isinstance(err.orig, pg_errors.UndefinedColumn) and table is not release.table:
            release.read_column_gone()
            return connection.execute(statement(release.table))
        raise


def list_customers(
    connection: Connection, release: Release, limit: int, offset: int, after: int | None = None
) -> list[dict[str, Any]]:
    def statement(table: sa.Table) -> Any:
        query = sa.select(table).order_by(table.c.id).limit(limit).offset(offset)
        return query if after is None else query.where(table.c.id > after)

    rows = _reading(connection, release, statement).mappings()
    customers = [release.to_json(row) for row in rows]
    connection.rollback()  # end the read transaction now, not at teardown
    return customers


def get_customer(connection: Connection, release: Release, customer_id: int) -> dict[str, Any]:
    if not possible_id(customer_id):
        raise not_found()
    row = (
        _reading(connection, release, lambda t: sa.select(t).where(t.c.id == customer_id))
        .mappings()
        .first()
    )
    connection.rollback()
    if row is None:
        raise not_found()
    return release.to_json(row)


def create_customer(
    connection: Connection, release: Release, values: dict[str, Any]
) -> dict[str, Any]:
    table = release.table
    row = (
        _write(connection, release, lambda t: sa.insert(table).values(**values).returning(*t.c))
        .mappings()
        .one()
    )
    connection.commit()
    return release.to_json(row)


def update_customer(
    connection: Connection, release: Release, customer_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    if not possible_id(customer_id):
        raise not_found()
    table = release.table
    row = (
        _write(
            connection,
            release,
            lambda t: (
                sa.update(table)
                .where(table.c.id == customer_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*t.c)
            ),
        )
        .mappings()
        .first()
    )
    connection.commit()
    if row is None:
        raise not_found()
    return release.to_json(row)


def delete_customer(connection: Connection, release: Release, customer_id: int) -> None:
    if not possible_id(customer_id):
        raise not_found()
    table = release.table
    result = connection.execute(sa.delete(table).where(table.c.id == customer_id))
    connection.commit()
    if result.rowcount == 0:
        raise not_found()


def _write(
    connection: Connection, release: Release, statement: Callable[[sa.Table], Any]
) -> sa.CursorResult[Any]:
    """A write returning the columns the release reads (retried once if one is gone)."""
    try:
        return _reading(connection, release, statement)
    except sa.exc.IntegrityError as err:
        connection.rollback()
        if isinstance(err.orig, pg_errors.UniqueViolation):
            raise conflict("a customer with this email already exists") from err
        raise
