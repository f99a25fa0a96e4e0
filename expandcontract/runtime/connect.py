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


# Where the database URL came from, in precedence order (the same in every command).
SOURCE_FLAG = "--database-url"
SOURCE_ENV_CONNECTION = "env.py connection="
SOURCE_ENV_URL = "env.py url="
SOURCE_ENVIRON = "$DATABASE_URL"
SOURCE_INI = "sqlalchemy.url in the Alembic config"


def choose_url(
    config: Config | None, *, env_url: str | None = None, env_connection: bool = False
) -> tuple[str | None, str]:
    """The URL to migrate and where it came from.

    Precedence: the CLI's ``--database-url``, then what env.py hands to the hook
    (``connection=``, for which the URL is None, or ``url=``), then ``$DATABASE_URL``, then
    ``sqlalchemy.url`` in the Alembic config.
    """
    flag = config.attributes.get("expandcontract.database_url") if config is not None else None
    if flag:
        return normalise_url(flag), SOURCE_FLAG
    if env_connection:
        return None, SOURCE_ENV_CONNECTION
    if env_url:
        return normalise_url(env_url), SOURCE_ENV_URL
    environ = os.environ.get("DATABASE_URL")
    if environ:
        return normalise_url(environ), SOURCE_ENVIRON
    ini = config.get_main_option("sqlalchemy.url") if config is not None else None
    if ini and "driver://" not in ini:
        return normalise_url(ini), SOURCE_INI
    raise ConfigurationError(
        "no database URL: pass --database-url, pass url= or connection= to "
        "expandcontract.run_migrations in env.py, set DATABASE_URL, or set sqlalchemy.url "
        "in the Alembic config"
    )


def database_url(config: Config | None) -> str:
    """The URL to migrate without env.py: CLI override, ``$DATABASE_URL``, ``sqlalchemy.url``."""
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
