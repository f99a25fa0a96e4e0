"""Finding and opening the target database."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from expandcontract.errors import ConfigurationError, DatabaseUnavailableError


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigurationError(f"invalid database URL {url!r}: {err}") from err
    except ValueError as err:  # SQLAlchemy's int() of the port
        raise ConfigurationError(f"invalid database URL: the port is not a number ({err})") from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(config: Config | None) -> str:
    """The URL to migrate: CLI override, then ``$DATABASE_URL``, then ``sqlalchemy.url``."""
    candidates = []
    if config is not None:
        candidates.append(config.attributes.get("expandcontract.database_url"))
    candidates.append(os.environ.get("DATABASE_URL"))
    if config is not None:
        candidates.append(config.get_main_option("sqlalchemy.url"))
    for url in candidates:
        if url and "driver://" not in url:
            return normalise_url(url)
    raise ConfigurationError(
        "no database URL: pass --database-url, set DATABASE_URL, or set sqlalchemy.url in alembic.ini"
    )


def create_engine(url: str) -> sa.Engine:
    """An engine that holds no idle connections (migrations and CLI commands are short-lived)."""
    return sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)


def check_reachable(engine: sa.Engine) -> None:
    """Raise :class:`DatabaseUnavailableError` with the reason when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        raise DatabaseUnavailableError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from err
