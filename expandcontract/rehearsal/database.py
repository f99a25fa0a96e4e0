"""The rehearsal's database: an embedded server, or a scratch database on the given server.

Either way the rehearsal works in a database it created and removes it at the end, so
``--database-url`` can point at a shared development server without touching its data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from expandcontract.embedded import embedded_postgres
from expandcontract.errors import ConfigurationError, DatabaseUnavailableError
from expandcontract.runtime.connect import normalise_url


@contextmanager
def rehearsal_database(server_url: str | None) -> Iterator[str]:
    """Yield the URL of a fresh, empty database, dropped (or its server removed) afterwards."""
    if server_url is None:
        with embedded_postgres() as url:
            yield url
        return
    with scratch_database(server_url) as url:
        yield url


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """``CREATE DATABASE`` a uniquely named database on ``server_url``; drop it afterwards."""
    server = make_url(normalise_url(server_url))
    if server.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"--database-url must point at a PostgreSQL server, not {server.get_backend_name()}"
        )
    name = f"expandcontract_rehearsal_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as err:
        admin.dispose()
        first = str(err.orig or err).strip().splitlines()[0]
        raise DatabaseUnavailableError(
            f"cannot reach {server.host or 'the server'}: {first}"
        ) from err
    except sa.exc.ProgrammingError as err:
        admin.dispose()
        first = str(err.orig or err).strip().splitlines()[0]
        raise ConfigurationError(
            f"cannot create the rehearsal's scratch database: {first} "
            "(the user needs CREATEDB, or leave out --database-url for an embedded server)"
        ) from err
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as connection:
                # WITH (FORCE) ends sessions a killed app left behind (PostgreSQL 13+).
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()
