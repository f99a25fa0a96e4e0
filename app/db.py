"""The database: one pooled engine per app, one connection per request, released at teardown.

Every request ends its transaction before its connection goes back to the pool, so the app never
leaves an idle-in-transaction session holding a lock that a migration's ``ALTER TABLE`` would
queue behind. The server-side ``idle_in_transaction_session_timeout`` is a second line of defence.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Connection

ENGINE_KEY = "customers.engine"


def init_app(app: Flask) -> None:
    """Create the app's engine and release each request's connection at teardown."""
    version = app.config["APP_VERSION"]
    engine = sa.create_engine(
        app.config["DATABASE_URL"],
        pool_size=app.config["DB_POOL_SIZE"],
        max_overflow=app.config["DB_MAX_OVERFLOW"],
        pool_pre_ping=True,  # a failover or a restarted server must not surface as a 500
        pool_recycle=1800,
        pool_timeout=app.config["DB_POOL_TIMEOUT"],
        connect_args={
            "connect_timeout": 5,
            "application_name": f"customers-{version}",
            "options": "-c idle_in_transaction_session_timeout=15000 -c statement_timeout=10000",
        },
    )
    app.extensions[ENGINE_KEY] = engine
    app.teardown_appcontext(close_connection)


def engine_of(app: Flask) -> sa.Engine:
    """The pooled engine of ``app`` (tests and the rehearsal dispose it when done)."""
    return app.extensions[ENGINE_KEY]


def get_connection() -> Connection:
    """The request's connection, opened on first use."""
    if "db" not in g:
        g.db = engine_of(current_app).connect()
    return g.db


def close_connection(_exc: BaseException | None = None) -> None:
    """End the request's transaction (roll back anything uncommitted); return the connection."""
    connection: Connection | None = g.pop("db", None)
    if connection is None:
        return
    try:
        if connection.in_transaction():
            connection.rollback()
    finally:
        connection.close()
