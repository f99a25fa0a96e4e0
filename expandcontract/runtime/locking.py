"""One migration run at a time: a PostgreSQL advisory lock serialises concurrent runners."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.errors import MigrationLockTimeout

LOCK_NAME = "expandcontract:migrations"


@contextmanager
def migration_lock(connection: Connection, timeout: timedelta, poll: float = 0.2) -> Iterator[None]:
    """Hold the migration lock (session level) on ``connection`` for the block.

    Waits up to ``timeout`` for another runner to finish, then raises
    :class:`MigrationLockTimeout` naming the session that holds it.
    """
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        got = connection.execute(
            sa.text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": LOCK_NAME}
        ).scalar()
        connection.commit()
        if got:
            break
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"another migration run has held the migration lock for over "
                f"{timeout.total_seconds():g}s ({_holder(connection)}); "
                "wait for it to finish, or raise migration_lock_timeout"
            )
        time.sleep(poll)
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(
            sa.text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": LOCK_NAME}
        )
        connection.commit()


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
