"""Zero-stall DDL: no statement of a migration queues the app behind a long transaction.

PostgreSQL grants locks in queue order. An ``ALTER TABLE`` waiting for a long transaction to end
holds its place in the queue, and every later query on that table (the app's reads) waits behind
it. So each DDL statement of a run:

- waits at most ``lock_timeout`` (set for the session by the hook) for its lock;
- on ``lock_not_available`` (SQLSTATE 55P03) steps out of the queue, lets the app through, and
  is retried after a jittered exponential backoff, up to ``lock_retries`` times. Inside a
  transaction the statement runs under a ``SAVEPOINT`` so a failed attempt rolls back to it and
  leaves the revision's transaction usable; in autocommit it is simply run again;
- runs with ``statement_timeout`` (so a table rewrite cannot hold its lock for minutes), relaxed
  only for ``CREATE INDEX CONCURRENTLY`` and ``VALIDATE CONSTRAINT``, which hold no lock that
  blocks the app and legitimately take as long as the table is big.

A retry inside a transaction keeps the locks earlier statements of the same revision took; keep
one lock-taking DDL statement per revision (the operations run their slow steps in autocommit).

Everything Alembic executes for a revision (``op.*`` and ``op.execute``) passes through the
migration context's ``impl._exec``; :func:`install` wraps that one choke point.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.sql.elements import TextClause

from expandcontract.config import Settings
from expandcontract.errors import ExpandContractError
from expandcontract.runtime.state import run_state
from expandcontract.sql import SqlParseError, classify

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"
_BACKOFF_BASE = 0.05  # seconds before the first retry; doubles each time
_BACKOFF_CAP = 5.0
_POLICY_KEY = "ddl_policy"


class LockRetriesExhausted(ExpandContractError):
    """A DDL statement could not get its lock within ``lock_timeout`` after every retry."""

    def __init__(self, statement: str, attempts: int, lock_timeout_ms: int) -> None:
        self.statement = statement
        self.attempts = attempts
        super().__init__(
            f"gave up after {attempts} attempts to get a lock for {statement.strip()[:200]!r} "
            f"(each waited {lock_timeout_ms} ms): another session keeps a conflicting lock "
            "on the table (a long transaction, or an idle-in-transaction connection). "
            "Find it in pg_stat_activity, or raise lock_retries / lock_timeout"
        )


@dataclass(frozen=True)
class DdlPolicy:
    """How DDL statements are run."""

    lock_timeout_ms: int
    retries: int
    statement_timeout_ms: int
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> DdlPolicy:
        return cls(
            lock_timeout_ms=settings.lock_timeout_ms,
            retries=settings.lock_retries,
            statement_timeout_ms=int(settings.statement_timeout.total_seconds() * 1000),
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): exponential, jittered."""
        ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1))
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


def needs_long_statement(sql: str) -> bool:
    """True for statements allowed to outlive ``statement_timeout`` (they block nobody)."""
    try:
        changes = classify(sql)
    except SqlParseError:
        return False
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
    """Run one DDL statement (``run``) with a short lock wait, retries and a statement timeout."""
    timeout = 0 if needs_long_statement(sql) else policy.statement_timeout_ms
    autocommit = _autocommit(connection)
    attempt = 0
    while True:
        attempt += 1
        try:
            if autocommit:
                return _attempt_autocommit(connection, run, timeout)
            return _attempt_in_transaction(connection, run, timeout)
        except exc.DBAPIError as err:
            if not is_lock_timeout(err):
                raise
            if attempt > policy.retries:
                raise LockRetriesExhausted(sql, attempt, policy.lock_timeout_ms) from err
            pause = policy.backoff(attempt)
            log.warning(
                "lock not available for %r (attempt %d of %d); retrying in %.2fs",
                sql.strip()[:80],
                attempt,
                policy.retries + 1,
                pause,
            )
            policy.sleep(pause)


def _attempt_in_transaction(connection: Connection, run: Callable[[], Any], timeout: int) -> Any:
    savepoint = connection.begin_nested()
    try:
        # SET LOCAL inside the savepoint: rolled back with it when the attempt fails.
        previous = connection.exec_driver_sql("SHOW statement_timeout").scalar()
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout}")
        result = run()
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{previous}'")
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _attempt_autocommit(connection: Connection, run: Callable[[], Any], timeout: int) -> Any:
    previous = connection.exec_driver_sql("SHOW statement_timeout").scalar()
    connection.exec_driver_sql(f"SET statement_timeout = {timeout}")
    try:
        return run()
    finally:
        connection.exec_driver_sql(f"SET statement_timeout = '{previous}'")
