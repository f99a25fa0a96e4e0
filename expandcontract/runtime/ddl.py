"""Zero-stall DDL: no statement of a migration queues the app behind a long transaction.

PostgreSQL grants locks in queue order. An ``ALTER TABLE`` waiting for a long transaction to end
holds its place in the queue, and every later query on that table (the app's reads) waits behind
it. So each DDL statement of a run:

- first waits, *outside* the lock queue, until no other session holds a lock on the statement's
  tables that conflicts with the one it needs (:mod:`expandcontract.runtime.blockers` asks
  ``pg_locks``), so it joins the queue only when it can be granted at once and the app never
  waits behind it for a long transaction;
- then runs under a short ``lock_timeout`` that escalates attempt by attempt (100 ms, 200 ms,
  400 ms ... up to the configured ceiling, in the spirit of GitLab's ``WithLockRetries``): the
  check above is a snapshot, and a session that took a lock a moment later must not keep the
  statement (and the app behind it) waiting long. On ``lock_not_available`` (SQLSTATE 55P03) it
  steps out of the queue, sleeps a short jittered pause and starts over. Inside a transaction
  each attempt runs under a ``SAVEPOINT``, so a failed one leaves the revision's transaction
  usable; in autocommit it is simply run again;
- gives up cleanly when its lock budget (``lock_wait``, default 2 min) is spent or after
  ``lock_retries`` timed-out attempts, naming the sessions in its way (pid, application_name,
  state, query_start), so the operator knows whom to ask or what to terminate;
- runs with ``statement_timeout`` (so a table rewrite cannot hold its lock for minutes), relaxed
  only for ``CREATE INDEX CONCURRENTLY`` and ``VALIDATE CONSTRAINT``. Those two hold and wait for
  locks the app's reads and writes never conflict with, so they wait in the queue for up to the
  whole budget (``CREATE INDEX CONCURRENTLY`` waits for every transaction with an older snapshot
  to end); while they wait, a watcher on a second connection logs whom they wait for, and a
  timeout names them.

A retry inside a transaction keeps the locks earlier statements of the same revision took; keep
one lock-taking DDL statement per revision (the operations run their slow steps in autocommit).

Everything Alembic executes for a revision (``op.*`` and ``op.execute``) passes through the
migration context's ``impl._exec``; :func:`install` wraps that one choke point.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.sql.elements import TextClause

from expandcontract.config import Settings
from expandcontract.errors import ExpandContractError
from expandcontract.runtime import blockers
from expandcontract.runtime.blockers import Session, TableLock
from expandcontract.runtime.state import run_state
from expandcontract.sql import Change, SqlParseError, classify

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"
_PAUSE_BASE = 0.05  # seconds after the first timed-out attempt (GitLab sleeps 50 ms); doubles
_PAUSE_CAP = 1.0
_POLL = 0.02  # how often the wait outside the queue looks at pg_locks
_REPORT_EVERY = 5.0  # seconds between "still waiting for ..." log lines
_POLICY_KEY = "ddl_policy"


class LockRetriesExhausted(ExpandContractError):
    """A DDL statement could not get its lock within its budget; names who was in the way."""

    def __init__(
        self, statement: str, attempts: int, waited: float, in_the_way: Sequence[Session]
    ) -> None:
        self.statement = statement
        self.attempts = attempts
        self.waited = waited
        self.blockers = list(in_the_way)
        super().__init__(
            f"gave up on {statement.strip()[:200]!r} after waiting {waited:.1f}s for its lock "
            f"({attempts} timed-out attempt(s)); in the way: {blockers.describe(self.blockers)}. "
            "End that transaction (or pg_terminate_backend(pid) it) and run again, or raise "
            "lock_wait / lock_retries in [tool.expandcontract]"
        )


@dataclass(frozen=True)
class DdlPolicy:
    """How DDL statements are run: the lock schedule and the statement timeout."""

    lock_timeout_ms: int
    """The ceiling of the escalating ``lock_timeout`` (and the session's, set by the hook)."""
    first_lock_timeout_ms: int
    retries: int
    statement_timeout_ms: int
    budget: float
    """Seconds a statement may wait for its lock in all, waits outside the queue included."""
    wait_for_blockers: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll: float = _POLL
    report_every: float = _REPORT_EVERY

    @classmethod
    def from_settings(cls, settings: Settings) -> DdlPolicy:
        return cls(
            lock_timeout_ms=settings.lock_timeout_ms,
            first_lock_timeout_ms=min(settings.lock_timeout_start_ms, settings.lock_timeout_ms),
            retries=settings.lock_retries,
            statement_timeout_ms=int(settings.statement_timeout.total_seconds() * 1000),
            budget=settings.lock_wait.total_seconds(),
            wait_for_blockers=settings.wait_for_blockers,
        )

    def lock_timeout_for(self, attempt: int) -> int:
        """``lock_timeout`` (ms) of attempt ``attempt`` (1-based): doubling up to the ceiling."""
        return min(self.lock_timeout_ms, self.first_lock_timeout_ms * 2 ** min(attempt - 1, 20))

    def schedule(self) -> list[int]:
        """Every attempt's ``lock_timeout`` (ms), in order."""
        return [self.lock_timeout_for(a) for a in range(1, self.retries + 2)]

    def backoff(self, attempt: int) -> float:
        """Seconds to pause after timed-out attempt ``attempt`` (1-based): short, jittered."""
        ceiling = min(_PAUSE_CAP, _PAUSE_BASE * 2 ** min(attempt - 1, 20))
        # Jitter spreads retries of several runners (and the app's own lock waits) apart.
        return random.uniform(ceiling / 2, ceiling)


def install(migration_context: MigrationContext, settings: Settings) -> None:
    """Run every DDL statement of ``migration_context`` through :func:`execute_ddl`."""
    impl = migration_context.impl
    if impl.as_sql:
        return
    policy = DdlPolicy.from_settings(settings)
    state = run_state(migration_context)
    if state is not None:
        state.extras[_POLICY_KEY] = policy
    original = impl._exec

    def _exec(construct: Any, *args: Any, **kwargs: Any) -> Any:
        text = _ddl_text(construct, impl.dialect)
        if text is None:
            return original(construct, *args, **kwargs)
        connection = impl.connection
        assert connection is not None  # online: as_sql contexts are never wrapped
        return execute_ddl(connection, lambda: original(construct, *args, **kwargs), text, policy)

    impl._exec = _exec  # type: ignore[method-assign]


def policy_for(migration_context: MigrationContext) -> DdlPolicy:
    """The policy of the run ``migration_context`` belongs to (defaults outside a run)."""
    state = run_state(migration_context)
    policy = state.extras.get(_POLICY_KEY) if state is not None else None
    return policy if isinstance(policy, DdlPolicy) else DdlPolicy.from_settings(Settings())


def _ddl_text(construct: Any, dialect: Any) -> str | None:
    """The SQL of ``construct`` if it is DDL, else None (data statements pass through)."""
    if isinstance(construct, ExecutableDDLElement):
        return str(construct.compile(dialect=dialect))
    if isinstance(construct, str):
        sql = construct
    elif isinstance(construct, TextClause):
        sql = construct.text.replace("\\:", ":")  # text() escapes literal colons as \:
    else:
        return None
    try:
        changes = classify(sql)
    except SqlParseError:
        return None
    return sql if any(change.is_ddl for change in changes) else None


def _changes(sql: str) -> list[Change]:
    try:
        return classify(sql)
    except SqlParseError:
        return []


def needs_long_statement(sql: str) -> bool:
    """True for statements allowed to outlive ``statement_timeout`` (they block nobody)."""
    changes = _changes(sql)
    return bool(changes) and all(
        (c.kind == "create_index" and "concurrently" in c.flags) or c.kind == "validate_constraint"
        for c in changes
    )


def is_lock_timeout(err: BaseException) -> bool:
    orig = getattr(err, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code == LOCK_NOT_AVAILABLE


def _autocommit(connection: Connection) -> bool:
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return True
    return not connection.in_transaction()


def execute_ddl(connection: Connection, run: Callable[[], Any], sql: str, policy: DdlPolicy) -> Any:
    """Run one DDL statement (``run``) so that the app never queues behind it (module docstring)."""
    locks = blockers.table_locks(_changes(sql))
    started = policy.clock()
    deadline = started + policy.budget
    autocommit = _autocommit(connection)
    if needs_long_statement(sql):
        return _execute_long(connection, run, sql, policy, autocommit, deadline)
    attempt = 0
    while True:
        if policy.wait_for_blockers and locks:
            _wait_until_free(connection, locks, sql, policy, attempt, started)
        attempt += 1
        lock_timeout = policy.lock_timeout_for(attempt)
        try:
            return _attempt(connection, run, autocommit, policy.statement_timeout_ms, lock_timeout)
        except exc.DBAPIError as err:
            if not is_lock_timeout(err):
                raise
            in_the_way = blockers.sessions(connection, blockers.conflicting_pids(connection, locks))
            if attempt > policy.retries or policy.clock() >= deadline:
                raise LockRetriesExhausted(
                    sql, attempt, policy.clock() - started, in_the_way
                ) from err
            pause = policy.backoff(attempt)
            log.warning(
                "lock not granted within %d ms for %r (attempt %d of %d; in the way: %s); "
                "retrying in %.2fs",
                lock_timeout,
                sql.strip()[:80],
                attempt,
                policy.retries + 1,
                blockers.describe(in_the_way),
                pause,
            )
            policy.sleep(pause)


def _wait_until_free(
    connection: Connection,
    locks: Sequence[TableLock],
    sql: str,
    policy: DdlPolicy,
    attempts: int,
    started: float,
) -> None:
    """Return once no other session holds a lock conflicting with ``locks``; give up (naming
    them) when the budget is spent. Waiting here stalls nobody: the statement is not queued."""
    reported = None
    # A transaction younger than the first attempt's lock_timeout is most likely a short one:
    # queueing behind it costs the app at most that long (the attempt times out otherwise).
    young = policy.first_lock_timeout_ms / 1000
    while True:
        pids = blockers.conflicting_pids(connection, locks, older_than=young)
        if not pids:
            return
        now = policy.clock()
        if now - started >= policy.budget:
            raise LockRetriesExhausted(
                sql, attempts, now - started, blockers.sessions(connection, pids)
            )
        if reported is None or now - reported >= policy.report_every:
            reported = now
            log.warning(
                "waiting (outside the lock queue, the app is not blocked) for %s before %r: %s",
                ", ".join(f"{lock.mode} on {lock.table}" for lock in locks),
                sql.strip()[:80],
                blockers.describe(blockers.sessions(connection, pids)),
            )
        policy.sleep(random.uniform(policy.poll / 2, policy.poll))


def _execute_long(
    connection: Connection,
    run: Callable[[], Any],
    sql: str,
    policy: DdlPolicy,
    autocommit: bool,
    deadline: float,
) -> Any:
    """``CREATE INDEX CONCURRENTLY`` / ``VALIDATE CONSTRAINT``: their waits block no app query,
    so they wait in the queue for the whole budget, watched from a second connection."""
    started = policy.clock()
    lock_timeout = max(1, int((deadline - started) * 1000))
    with _watch(connection, sql, policy) as seen:
        try:
            return _attempt(connection, run, autocommit, 0, lock_timeout)
        except exc.DBAPIError as err:
            if not is_lock_timeout(err):
                raise
            raise LockRetriesExhausted(sql, 1, policy.clock() - started, list(seen)) from err


@contextmanager
def _watch(connection: Connection, sql: str, policy: DdlPolicy) -> Iterator[list[Session]]:
    """While the block runs, log whom ``connection``'s statement waits for; yields the last seen."""
    seen: list[Session] = []
    try:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        # Its own one-off connection: the caller's pool may have no connection to spare.
        engine = sa.create_engine(connection.engine.url, poolclass=sa.pool.NullPool)
        watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except exc.DBAPIError:  # no second connection: run unwatched
        yield seen
        return
    done = threading.Event()

    def watch() -> None:
        reported = None
        while not done.wait(min(1.0, policy.report_every)):
            try:
                found = blockers.sessions(watcher, blockers.blocking_pids(watcher, pid))
            except exc.DBAPIError:
                return
            if not found:
                continue
            seen[:] = found
            now = policy.clock()
            if reported is None or now - reported >= policy.report_every:
                reported = now
                log.warning("%r waits for %s", sql.strip()[:80], blockers.describe(found))

    thread = threading.Thread(target=watch, name="expandcontract-ddl-watch", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()
        watcher.close()
        engine.dispose()


def _attempt(
    connection: Connection,
    run: Callable[[], Any],
    autocommit: bool,
    statement_timeout: int,
    lock_timeout: int,
) -> Any:
    # One round trip to read and one to set both: in a transaction, the restore after ``run``
    # happens while the statement's lock is held, and the app may be queued behind it.
    wanted = f"statement_timeout = {int(statement_timeout)}", f"lock_timeout = {int(lock_timeout)}"
    if autocommit:
        previous = _current(connection)
        _set(connection, "SET", wanted)
        try:
            return run()
        except BaseException:
            if connection.in_transaction():
                # Not AUTOCOMMIT but idle: SQLAlchemy began a transaction the error aborted.
                connection.rollback()
            raise
        finally:
            _set(connection, "SET", previous)
    savepoint = connection.begin_nested()
    try:
        # SET LOCAL inside the savepoint: rolled back with it when the attempt fails.
        previous = _current(connection)
        _set(connection, "SET LOCAL", wanted)
        result = run()
        _set(connection, "SET LOCAL", previous)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _current(connection: Connection) -> tuple[str, str]:
    row = connection.exec_driver_sql(
        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
    ).one()
    return f"statement_timeout = '{row[0]}'", f"lock_timeout = '{row[1]}'"


def _set(connection: Connection, verb: str, settings: Sequence[str]) -> None:
    """One statement per setting: drivers that prepare statements (asyncpg) refuse several."""
    for setting in settings:
        connection.exec_driver_sql(f"{verb} {setting}")
