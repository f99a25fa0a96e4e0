"""One migration run at a time: a PostgreSQL advisory lock serialises concurrent runners."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.errors import MigrationLockTimeout

LOCK_NAME = "expandcontract:migrations"


@contextmanager
def advisory_lock(
    connection: Connection,
    key: str,
    timeout: timedelta,
    refused: Callable[[], Exception],
    poll: float = 0.2,
) -> Iterator[None]:
    """Hold the session-level advisory lock ``key`` on ``connection`` for the block.

    Waits up to ``timeout`` for whoever holds it, then raises ``refused()``. Session level: it
    survives the block's transactions and is released when the session ends, also when the
    process is killed.
    """
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        got = connection.execute(
            sa.text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": key}
        ).scalar()
        connection.commit()
        if got:
            break
        if time.monotonic() >= deadline:
            raise refused()
        time.sleep(poll)
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
        connection.commit()


def migration_lock(connection: Connection, timeout: timedelta) -> AbstractContextManager[None]:
    """Hold the migration lock: one migration run at a time."""

    def refused() -> MigrationLockTimeout:
        return MigrationLockTimeout(
            f"another migration run has held the migration lock for over "
            f"{timeout.total_seconds():g}s ({_holder(connection)}); "
            "wait for it to finish, or raise migration_lock_timeout"
        )

    return advisory_lock(connection, LOCK_NAME, timeout, refused)


def _holder(connection: Connection) -> str:
    row = connection.execute(
        sa.text(
            "SELECT a.pid, a.application_name, a.client_addr, a.state "
            "FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.objid = hashtext(:name)::oid AND l.granted"
        ),
        {"name": LOCK_NAME},
    ).first()
    connection.commit()
    if row is None:
        return "holder unknown"
    return f"pid {row.pid}, application {row.application_name or '?'}, state {row.state}"
