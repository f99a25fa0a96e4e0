"""The support boundary: PostgreSQL is the full product, SQLite serves local development.

On SQLite the phases, the ledger, the contract guard, ``mark-stable`` and ``status`` work; each
PostgreSQL-only feature is skipped with one line saying so. MySQL, MariaDB and every other
database are refused before any SQL is run or written, with the list of what needs PostgreSQL.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from expandcontract.config import Settings
from expandcontract.errors import ConfigurationError
from expandcontract.runtime.locking import migration_lock

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

# What needs PostgreSQL, named in refusals and in the one-line notes on SQLite.
POSTGRESQL_ONLY = {
    "advisory_lock": "the migration lock (pg_try_advisory_lock)",
    "lock_timeout": "short lock waits with retries (lock_timeout)",
    "policing": "runtime phase policing (a PostgreSQL parser judges each statement)",
    "sync_triggers": "sync triggers (PL/pgSQL)",
    "concurrent_indexes": "CREATE INDEX CONCURRENTLY",
}

# Async drivers the hook replaces by the synchronous driver of the same database.
_SYNC_DRIVERS = {
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
}

ASYNC_FORM = (
    "with an async engine, open the connection in env.py and hand it over: "
    "`async with engine.connect() as conn: await conn.run_sync("
    "lambda sync: expandcontract.run_migrations(context, connection=sync))`"
)


class UnsupportedDatabase(ConfigurationError):
    """A database expandcontract does not support (exit 2, nothing run)."""


def dialect_of(url: str) -> str:
    try:
        return make_url(url).get_backend_name()
    except ArgumentError as err:
        raise ConfigurationError(f"invalid database URL {url!r}: {err}") from err


def require_supported(dialect: str) -> None:
    """Refuse every database but PostgreSQL and SQLite, naming what needs PostgreSQL."""
    if dialect in (POSTGRESQL, SQLITE):
        return
    name = "MySQL/MariaDB" if dialect in ("mysql", "mariadb") else dialect
    raise UnsupportedDatabase(
        f"{name} is not supported: expandcontract needs PostgreSQL for "
        f"{', '.join(POSTGRESQL_ONLY.values())}, the ledger and the guard; "
        "use PostgreSQL (or SQLite for local development)"
    )


def sync_url(url: str) -> tuple[str, str | None]:
    """``url`` with an async driver replaced by its synchronous one, and a note when replaced.

    Migrations run on a synchronous connection; the project's app keeps its async driver.
    """
    parsed = make_url(url)
    driver = parsed.drivername
    if driver not in _SYNC_DRIVERS:
        return url, None
    replaced = parsed.set(drivername=_SYNC_DRIVERS[driver])
    note = f"{driver} is an async driver: migrating through {replaced.drivername} instead"
    return replaced.render_as_string(hide_password=False), note


def require_sync_connection(connection: object) -> None:
    """Refuse an ``AsyncConnection`` handed to the hook, showing the form that works."""
    if type(connection).__name__ == "AsyncConnection":
        raise ConfigurationError(f"connection= got an AsyncConnection: {ASYNC_FORM}")


def skipped(feature: str, dialect: str = SQLITE) -> None:
    """Say, in one line on stderr, that a PostgreSQL-only feature is skipped."""
    print(
        f"expandcontract: {dialect}: {POSTGRESQL_ONLY[feature]} skipped (PostgreSQL only)",
        file=sys.stderr,
    )


@contextlib.contextmanager
def run_session(connection: Connection, settings: Settings) -> Iterator[bool]:
    """One migration run's session: yields True on PostgreSQL, False on SQLite.

    On PostgreSQL it holds the migration lock and a session-level ``lock_timeout`` (every
    statement of the run waits at most that long for a lock), reset afterwards so a caller's
    pooled connection does not keep it. On SQLite it says what is skipped.
    """
    dialect = connection.dialect.name
    if dialect != POSTGRESQL:
        for feature in ("advisory_lock", "lock_timeout", "policing"):
            skipped(feature, dialect)
        yield False
        return
    with migration_lock(connection, settings.migration_lock_timeout):
        connection.exec_driver_sql(f"SET lock_timeout = {settings.lock_timeout_ms}")
        try:
            yield True
        finally:
            # A connection that died with the run has nothing to reset; its own error is the
            # one to show.
            with contextlib.suppress(DBAPIError):
                if connection.in_transaction():
                    connection.rollback()
                connection.exec_driver_sql("RESET lock_timeout")
                connection.commit()
