"""The rehearsal's database: an embedded server, or a scratch database on the given server.

Either way the rehearsal works in a database it created and removes it at the end, so
``--database-url`` can point at a shared development server without touching its data.
Each kind can tell afterwards whether it is really gone (:meth:`RehearsalDatabase.gone`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from expandcontract.embedded import embedded_postgres
from expandcontract.errors import ConfigurationError, DatabaseUnavailableError
from expandcontract.runtime.connect import normalise_url

SCRATCH_PREFIX = "expandcontract_rehearsal_"


@dataclass
class RehearsalDatabase:
    """Where the rehearsal runs. ``folder`` and ``postmaster`` for an embedded server;
    ``server_url`` and ``name`` for a scratch database."""

    url: str
    folder: Path | None = None
    postmaster: int | None = None
    server_url: str | None = None
    name: str | None = None

    @property
    def description(self) -> str:
        if self.folder is not None:
            return f"the embedded PostgreSQL server and its data directory {self.folder}"
        return f"the scratch database {self.name}"

    def gone(self) -> bool:
        """True once the server is stopped and its files deleted / the database dropped."""
        if self.folder is not None:
            return not self.folder.exists() and not _alive(self.postmaster)
        assert self.server_url is not None and self.name is not None
        return self.name not in scratch_databases(self.server_url, self.name)


@contextmanager
def rehearsal_database(server_url: str | None) -> Iterator[RehearsalDatabase]:
    """A fresh, empty database, dropped (or its server removed) afterwards."""
    if server_url is None:
        with embedded_database() as database:
            yield database
        return
    with scratch_database(server_url) as database:
        yield database


@contextmanager
def embedded_database() -> Iterator[RehearsalDatabase]:
    """A throwaway server in ``$TMPDIR/expandcontract-pg-*``, stopped and deleted afterwards,
    also when its start is interrupted half-way."""
    folder = Path(tempfile.mkdtemp(prefix="expandcontract-pg-"))
    database: RehearsalDatabase | None = None
    try:
        with embedded_postgres(folder) as url:
            database = RehearsalDatabase(url, folder=folder, postmaster=_postmaster_pid(folder))
            yield database
    finally:
        # A start interrupted between initdb and "ready" leaves a server pgserver never
        # returned; stop it by the pid file before deleting its files.
        _stop_postmaster(_postmaster_pid(folder) or (database.postmaster if database else None))
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def scratch_database(server_url: str) -> Iterator[RehearsalDatabase]:
    """``CREATE DATABASE`` a uniquely named database on ``server_url``; drop it afterwards."""
    server = make_url(normalise_url(server_url))
    if server.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"--database-url must point at a PostgreSQL server, not {server.get_backend_name()}"
        )
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    created = False
    try:
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                created = True
        except sa.exc.OperationalError as err:
            first = str(err.orig or err).strip().splitlines()[0]
            if "does not exist" in first:
                raise ConfigurationError(
                    f"database {server.database!r} does not exist on {server.host or 'the server'}"
                    " (the rehearsal connects to it to create its scratch database: name one "
                    "that exists, e.g. /postgres)"
                ) from err
            raise DatabaseUnavailableError(
                f"cannot reach {server.host or 'the server'}: {first}"
            ) from err
        except sa.exc.ProgrammingError as err:
            first = str(err.orig or err).strip().splitlines()[0]
            raise ConfigurationError(
                f"cannot create the rehearsal's scratch database: {first} "
                "(the user needs CREATEDB, or leave out --database-url for an embedded server)"
            ) from err
        rendered = server.render_as_string(hide_password=False)
        yield RehearsalDatabase(
            server.set(database=name).render_as_string(hide_password=False),
            server_url=rendered,
            name=name,
        )
    finally:
        try:
            if created:
                with admin.connect() as connection:
                    # WITH (FORCE) ends sessions a killed app left behind (PostgreSQL 13+).
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


def scratch_databases(server_url: str, name: str | None = None) -> set[str]:
    """The rehearsal scratch databases on the server (only ``name`` when given)."""
    engine = sa.create_engine(normalise_url(server_url), poolclass=sa.NullPool)
    pattern = name or f"{SCRATCH_PREFIX}%"
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": pattern}
            ).scalars()
            return set(rows)
    finally:
        engine.dispose()


def _postmaster_pid(folder: Path) -> int | None:
    try:
        return int((folder / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _stop_postmaster(pid: int | None, timeout: float = 10.0) -> None:
    """Immediate shutdown (SIGQUIT ends the server and its workers), then SIGKILL."""
    if not _alive(pid):
        return
    assert pid is not None
    for signum, wait in ((signal.SIGQUIT, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(pid):
            return
