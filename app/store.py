"""Customers in the database, through one release's view of the table.

Each function runs on the request's connection and commits its own write, so no request ever
leaves a transaction open.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.engine import Connection

from app.errors import conflict, not_found
from app.releases import Release
from app.validation import possible_id


def list_customers(
    connection: Connection, release: Release, limit: int, offset: int
) -> list[dict[str, Any]]:
    table = release.table
    rows = connection.execute(
        sa.select(table).order_by(table.c.id).limit(limit).offset(offset)
    ).mappings()
    customers = [release.to_json(row) for row in rows]
    connection.rollback()  # end the read transaction now, not at teardown
    return customers


def get_customer(connection: Connection, release: Release, customer_id: int) -> dict[str, Any]:
    if not possible_id(customer_id):
        raise not_found()
    table = release.table
    row = connection.execute(sa.select(table).where(table.c.id == customer_id)).mappings().first()
    connection.rollback()
    if row is None:
        raise not_found()
    return release.to_json(row)


def create_customer(
    connection: Connection, release: Release, values: dict[str, Any]
) -> dict[str, Any]:
    table = release.table
    statement = sa.insert(table).values(**values).returning(*table.c)
    row = _write(connection, statement).mappings().one()
    connection.commit()
    return release.to_json(row)


def update_customer(
    connection: Connection, release: Release, customer_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    if not possible_id(customer_id):
        raise not_found()
    table = release.table
    statement = (
        sa.update(table)
        .where(table.c.id == customer_id)
        .values(**values, updated_at=sa.func.now())
        .returning(*table.c)
    )
    row = _write(connection, statement).mappings().first()
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


def _write(connection: Connection, statement: Any) -> sa.CursorResult[Any]:
    try:
        return connection.execute(statement)
    except sa.exc.IntegrityError as err:
        connection.rollback()
        if isinstance(err.orig, pg_errors.UniqueViolation):
            raise conflict("a customer with this email already exists") from err
        raise
