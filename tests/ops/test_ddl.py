"""Zero-stall DDL: short lock waits, retries with backoff, statement_timeout relaxed only where safe."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from expandcontract.config import Settings
from expandcontract.errors import ConfigurationError
from expandcontract.runtime.ddl import DdlPolicy, LockRetriesExhausted, needs_long_statement

SCENE = """
op.execute("CREATE TABLE t (id bigserial PRIMARY KEY, a int)")
op.execute("INSERT INTO t (a) SELECT i FROM generate_series(1, 20) AS i")
"""


class Blocker:
    """Another session holding a transaction that read ``t`` (an app connection left open)."""

    def __init__(self, url: str, table: str = "t") -> None:
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.NullPool,
            connect_args={"application_name": "idle-app-worker"},
        )
        self.connection = self.engine.connect()
        self.connection.execute(sa.text(f"SELECT count(*) FROM {table}"))

    def release(self, after: float = 0.0) -> threading.Timer:
        timer = threading.Timer(after, self.close)
        timer.start()
        return timer

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()
        self.engine.dispose()


def _settings(**kwargs) -> Settings:
    return Settings(lock_timeout=timedelta(milliseconds=200), **kwargs)


def test_ddl_behind_a_long_transaction_waits_for_it_then_runs(make_project, caplog) -> None:
    project = make_project("p", settings=_settings(lock_retries=20))
    project.revision("scene", "expand", SCENE)
    project.revision(
        "two_steps",
        "expand",
        # Two statements in one revision transaction: the second must not lose the first.
        'op.expand_create_table("side", sa.Column("id", sa.Integer, primary_key=True))\n'
        'op.expand_add_column("t", "b", sa.Text())',
    )
    project.upgrade("scene")
    blocker = Blocker(project.url)
    timer = blocker.release(after=1.0)
    caplog.set_level(logging.WARNING, logger="expandcontract.runtime.ddl")
    started = time.monotonic()
    project.upgrade("heads")
    timer.join()
    assert time.monotonic() - started >= 0.9
    assert project.columns("t") == ["id", "a", "b"]
    assert project.exists("side")
    waits = [r.getMessage() for r in caplog.records if "outside the lock queue" in r.getMessage()]
    assert waits and "idle-app-worker" in waits[0], "the wait names the session in the way"


def test_giving_up_names_the_blocker_and_rolls_the_revision_back(make_project) -> None:
    project = make_project("p", settings=_settings(lock_wait=timedelta(milliseconds=600)))
    project.revision("scene", "expand", SCENE)
    project.revision("add_b", "expand", 'op.expand_add_column("t", "b", sa.Text())')
    project.upgrade("scene")
    blocker = Blocker(project.url)
    pid = blocker.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        with pytest.raises(LockRetriesExhausted) as failed:
            project.upgrade("heads")
    finally:
        blocker.close()
    assert [s.pid for s in failed.value.blockers] == [pid]
    assert failed.value.blockers[0].application_name == "idle-app-worker"
    assert failed.value.blockers[0].state == "idle in transaction"
    assert f"pid {pid}" in str(failed.value) and "query_start" in str(failed.value)
    assert project.columns("t") == ["id", "a"]
    assert project.scalar("SELECT version_num FROM alembic_version") == "scene"


def test_an_app_query_never_waits_much_longer_than_lock_timeout(make_project) -> None:
    project = make_project("p", settings=_settings(lock_retries=30))
    project.revision("scene", "expand", SCENE)
    project.revision("add_b", "expand", 'op.expand_add_column("t", "b", sa.Text())')
    project.upgrade("scene")
    blocker = Blocker(project.url)
    timer = blocker.release(after=1.5)
    waits: list[float] = []
    stop = threading.Event()

    def client() -> None:
        engine = sa.create_engine(project.url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            while not stop.is_set():
                started = time.monotonic()
                connection.execute(sa.text("SELECT a FROM t WHERE id = 1"))
                connection.rollback()
                waits.append(time.monotonic() - started)
                time.sleep(0.01)
        engine.dispose()

    reader = threading.Thread(target=client)
    reader.start()
    try:
        project.upgrade("heads")
    finally:
        stop.set()
        reader.join()
        timer.join()
    assert "b" in project.columns("t")
    # The DDL never queued behind the blocker: the app's waits are scheduling noise, far below
    # the 1.5 s it would wait behind a queued ALTER TABLE (and below the 200 ms lock_timeout).
    assert max(waits) < 0.2


def test_statement_timeout_applies_to_ddl_but_not_to_concurrent_index_builds(make_project) -> None:
    slow = """
op.execute('''CREATE FUNCTION slow(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN PERFORM pg_sleep(0.02); RETURN v; END $$''')
"""
    project = make_project("p", settings=_settings(statement_timeout=timedelta(milliseconds=150)))
    project.revision("scene", "expand", SCENE + slow)
    project.revision("concurrent", "expand", 'op.expand_create_index("ix_slow", "t", ["slow(a)"])')
    project.upgrade("heads")  # 20 rows x 20 ms = 0.4 s > statement_timeout, and allowed
    assert project.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_slow'::regclass")
    project.revision(
        "blocking", "expand", 'op.execute("CREATE INDEX ix_slow_plain ON t (slow(a))")'
    )
    with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
        project.upgrade("heads")


def test_policy() -> None:
    policy = DdlPolicy.from_settings(
        Settings(
            lock_timeout=timedelta(seconds=1),
            lock_timeout_start=timedelta(milliseconds=100),
            lock_retries=6,
        )
    )
    assert policy.schedule() == [100, 200, 400, 800, 1000, 1000, 1000]
    assert policy.budget == 120.0 and policy.wait_for_blockers
    pauses = [policy.backoff(attempt) for attempt in range(1, 12)]
    assert all(0 < w <= 1.0 for w in pauses)
    assert pauses[-1] > pauses[0]  # grows (jitter keeps it within [ceiling/2, ceiling])
    # A start above the ceiling is capped by it.
    assert (
        DdlPolicy.from_settings(Settings(lock_timeout=timedelta(milliseconds=50))).schedule()[0]
        == 50
    )
    assert needs_long_statement("CREATE INDEX CONCURRENTLY ix ON t (a)")
    assert needs_long_statement("ALTER TABLE t VALIDATE CONSTRAINT ck")
    assert not needs_long_statement("CREATE INDEX ix ON t (a)")
    assert not needs_long_statement("ALTER TABLE t ADD COLUMN b int")


def test_the_schedule_is_configurable() -> None:
    settings = Settings.from_mapping(
        {
            "lock_timeout": "500ms",
            "lock_timeout_start": "50ms",
            "lock_wait": "30s",
            "wait_for_blockers": False,
            "lock_retries": 3,
        }
    )
    policy = DdlPolicy.from_settings(settings)
    assert policy.schedule() == [50, 100, 200, 400]
    assert (policy.budget, policy.wait_for_blockers) == (30.0, False)
    with pytest.raises(ConfigurationError, match="wait_for_blockers"):
        Settings.from_mapping({"wait_for_blockers": "yes"})


def test_an_index_build_cancelled_by_lock_timeout_is_rebuilt_not_left_invalid(make_project) -> None:
    """CREATE INDEX CONCURRENTLY waits for older writing transactions; when that wait hits
    lock_timeout the build leaves an INVALID index, which IF NOT EXISTS alone would keep."""
    project = make_project("p", settings=_settings(lock_retries=20))
    project.revision("scene", "expand", SCENE)
    project.revision("ix", "expand", 'op.expand_create_index("ix_t_a", "t", ["a"])')
    project.upgrade("scene")
    writer = Blocker(project.url)
    writer.connection.execute(
        sa.text("INSERT INTO t (a) VALUES (0)")
    )  # an open writing transaction
    timer = writer.release(after=1.0)
    project.upgrade("heads")
    timer.join()
    assert project.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_t_a'::regclass")


def test_without_waiting_for_blockers_the_escalating_attempts_retry_until_granted(
    make_project, caplog
) -> None:
    """wait_for_blockers = false (pgroll's way): each attempt queues and times out, escalating."""
    settings = _settings(lock_retries=30, wait_for_blockers=False)
    settings = Settings(**{**settings.__dict__, "lock_timeout_start": timedelta(milliseconds=50)})
    project = make_project("p", settings=settings)
    project.revision("scene", "expand", SCENE)
    project.revision("add_b", "expand", 'op.expand_add_column("t", "b", sa.Text())')
    project.upgrade("scene")
    blocker = Blocker(project.url)
    timer = blocker.release(after=1.0)
    caplog.set_level(logging.WARNING, logger="expandcontract.runtime.ddl")
    project.upgrade("heads")
    timer.join()
    assert "b" in project.columns("t")
    timeouts = [r.getMessage() for r in caplog.records if "not granted within" in r.getMessage()]
    assert timeouts[0].startswith("lock not granted within 50 ms")
    assert any("within 200 ms" in message for message in timeouts)  # escalated to the ceiling
    assert "idle-app-worker" in timeouts[0]
