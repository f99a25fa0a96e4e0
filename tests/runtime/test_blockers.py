"""Who a DDL statement would queue behind, read from pg_locks, and the long statements' watcher."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from expandcontract.config import Settings
from expandcontract.runtime import blockers
from expandcontract.runtime.ddl import DdlPolicy, LockRetriesExhausted, execute_ddl
from expandcontract.sql import classify


@pytest.fixture
def table(engine: sa.Engine) -> Iterator[str]:
    with engine.begin() as conn:
        conn.exec_driver_sql('CREATE TABLE "Accounts" (id int PRIMARY KEY, a int)')
        conn.exec_driver_sql('INSERT INTO "Accounts" SELECT i, i FROM generate_series(1, 50) i')
    yield "Accounts"


def _session(engine: sa.Engine, name: str) -> sa.Connection:
    connection = engine.connect()
    connection.exec_driver_sql(f"SET application_name = '{name}'")
    connection.commit()
    return connection


def test_lock_modes_follow_the_statement() -> None:
    def modes(sql: str) -> list[tuple[str, str]]:
        return [(lock.table, lock.mode) for lock in blockers.table_locks(classify(sql))]

    assert modes("ALTER TABLE s.t ADD COLUMN b int") == [("s.t", "AccessExclusiveLock")]
    assert modes("CREATE INDEX CONCURRENTLY ix ON t (a)") == [("t", "ShareUpdateExclusiveLock")]
    assert modes("CREATE INDEX ix ON t (a)") == [("t", "ShareLock")]
    assert modes("ALTER TABLE t VALIDATE CONSTRAINT c") == [("t", "ShareUpdateExclusiveLock")]
    assert modes("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'") == []
    # ACCESS EXCLUSIVE conflicts with a plain read; SHARE UPDATE EXCLUSIVE does not.
    assert "AccessShareLock" in blockers.CONFLICTS["AccessExclusiveLock"]
    assert "RowExclusiveLock" not in blockers.CONFLICTS["ShareUpdateExclusiveLock"]


def test_a_reader_in_an_open_transaction_is_found(engine: sa.Engine, table: str) -> None:
    reader = _session(engine, "reporting-job")
    pid = reader.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    reader.exec_driver_sql('SELECT count(*) FROM "Accounts"')  # AccessShare until rollback
    try:
        with engine.connect() as conn:
            alter = blockers.table_locks(classify('ALTER TABLE "Accounts" ADD COLUMN b int'))
            concurrent = blockers.table_locks(
                classify('CREATE INDEX CONCURRENTLY i ON "Accounts" (a)')
            )
            assert blockers.conflicting_pids(conn, alter) == [pid]
            assert blockers.conflicting_pids(conn, concurrent) == []  # a read is no conflict
            [found] = blockers.sessions(conn, [pid])
            assert (found.application_name, found.state) == (
                "reporting-job",
                "idle in transaction",
            )
            assert found.query_start is not None and "count(*)" in found.query
    finally:
        reader.rollback()
        reader.close()
    with engine.connect() as conn:
        assert blockers.conflicting_pids(conn, alter) == []


def test_the_app_never_queues_behind_the_waiting_ddl(engine: sa.Engine, table: str) -> None:
    """A second session holds a conflicting lock; while the DDL waits, app reads go through."""
    holder = _session(engine, "slow-report")
    holder.exec_driver_sql('SELECT count(*) FROM "Accounts"')
    time.sleep(0.3)  # a transaction already older than the first lock_timeout: a long one
    policy = DdlPolicy.from_settings(Settings(lock_timeout=timedelta(milliseconds=200)))
    sql = 'ALTER TABLE "Accounts" ADD COLUMN b int'
    done = threading.Event()

    def migrate() -> None:
        with engine.connect() as conn:
            execute_ddl(conn, lambda: conn.exec_driver_sql(sql), sql, policy)
            conn.commit()
        done.set()

    runner = threading.Thread(target=migrate)
    runner.start()
    waits = []
    with engine.connect() as app:
        app.exec_driver_sql("SET lock_timeout = '5s'")
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            started = time.monotonic()
            app.exec_driver_sql('SELECT a FROM "Accounts" WHERE id = 7').scalar()
            app.rollback()
            waits.append(time.monotonic() - started)
            time.sleep(0.01)
        assert not done.is_set(), "the DDL must still be waiting for the holder"
        holder.rollback()
        holder.close()
        runner.join(10)
    assert done.is_set()
    assert max(waits) < 0.15  # never queued behind the ALTER (it would wait the whole 1.2 s)
    with engine.connect() as conn:
        assert conn.exec_driver_sql('SELECT count(b) FROM "Accounts"').scalar() == 0


def test_a_concurrent_build_reports_whom_it_waits_for(
    engine: sa.Engine, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CREATE INDEX CONCURRENTLY waits for transactions with older snapshots: the watcher names
    them, and when the budget runs out so does the error."""
    writer = _session(engine, "batch-importer")
    writer.exec_driver_sql('INSERT INTO "Accounts" VALUES (1000, 1)')  # open, writing
    pid = writer.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    policy = DdlPolicy.from_settings(Settings(lock_wait=timedelta(seconds=1.5)))
    policy = DdlPolicy(**{**policy.__dict__, "report_every": 0.2})
    sql = 'CREATE INDEX CONCURRENTLY ix_accounts_a ON "Accounts" (a)'
    caplog.set_level(logging.WARNING, logger="expandcontract.runtime.ddl")
    try:
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
            pytest.raises(LockRetriesExhausted) as failed,
        ):
            execute_ddl(conn, lambda: conn.exec_driver_sql(sql), sql, policy)
    finally:
        writer.rollback()
        writer.close()
    assert [s.pid for s in failed.value.blockers] == [pid]
    assert "batch-importer" in str(failed.value)
    assert any("batch-importer" in r.getMessage() for r in caplog.records)


def test_a_busy_table_of_short_transactions_does_not_starve_the_ddl(
    engine: sa.Engine, table: str
) -> None:
    """Some session nearly always holds a lock on a hot table; the DDL must still get in."""
    stop = threading.Event()

    def app_worker() -> None:
        with engine.connect() as conn:
            while not stop.is_set():
                conn.exec_driver_sql('SELECT a FROM "Accounts" WHERE id = 3').scalar()
                time.sleep(0.02)  # a short transaction, always one open somewhere
                conn.rollback()

    workers = [threading.Thread(target=app_worker) for _ in range(3)]
    for worker in workers:
        worker.start()
    policy = DdlPolicy.from_settings(Settings(lock_wait=timedelta(seconds=20)))
    sql = 'ALTER TABLE "Accounts" ADD COLUMN c int'
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            execute_ddl(conn, lambda: conn.exec_driver_sql(sql), sql, policy)
            conn.commit()
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert time.monotonic() - started < 10
    with engine.connect() as conn:
        assert conn.exec_driver_sql('SELECT count(c) FROM "Accounts"').scalar() == 0


def test_sessions_queued_behind_this_transaction_are_not_waited_for(
    engine: sa.Engine, table: str
) -> None:
    """Two DDL statements in one transaction: app queries queue behind the first one's lock;
    the second must not wait for them (they wait for us)."""
    policy = DdlPolicy.from_settings(Settings(lock_wait=timedelta(seconds=3)))
    first, second = (f'ALTER TABLE "Accounts" ADD COLUMN {c} int' for c in ("d", "e"))
    with engine.connect() as conn, conn.begin():
        execute_ddl(conn, lambda: conn.exec_driver_sql(first), first, policy)
        reader = threading.Thread(
            target=lambda: (
                _session(engine, "queued-reader")
                .exec_driver_sql('SELECT count(*) FROM "Accounts"')
                .all()
            )
        )
        reader.start()
        time.sleep(0.3)  # the reader is now queued behind this transaction's lock
        execute_ddl(conn, lambda: conn.exec_driver_sql(second), second, policy)
    reader.join(10)
    assert not reader.is_alive()
