"""expand: build an index CONCURRENTLY, repairing the leftover of a failed build."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic.operations import Operations

from expandcontract.backfill.batch import error_message
from expandcontract.errors import PreconditionFailed
from expandcontract.ops.base import PhasedOperation, internal, live_connection, register, run_sql
from expandcontract.ops.catalog import index_state
from expandcontract.ops.sqltext import ident, qualified, sibling
from expandcontract.phases import Phase
from expandcontract.runtime import ddl

log = logging.getLogger(__name__)

_PLAIN_NAME = re.compile(r"^\w+$")


def index_sql(
    name: str, table: str, columns: Sequence[str], *, unique: bool = False, where: str | None = None
) -> str:
    """``CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS``; columns may be expressions."""
    parts = ", ".join(ident(c) if _PLAIN_NAME.match(c) else f"({c})" for c in columns)
    sql = (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY IF NOT EXISTS {ident(name)} "
        f"ON {qualified(table)} ({parts})"
    )
    return sql + (f" WHERE {where}" if where else "")


def build_concurrently(operations: Operations, name: str, table: str, sql: str) -> None:
    """Run ``sql`` (a concurrent build) inside an autocommit block until the index is VALID.

    A failed or interrupted ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index behind, and
    ``IF NOT EXISTS`` would then silently keep the broken one. That happens both after a crash
    and when the build's wait for older writing transactions outlives ``lock_timeout``. So the
    index state is checked before and after each build: an INVALID index is dropped and built
    again, with the same retry budget and backoff as any other DDL.
    """
    context = operations.get_context()
    connection = live_connection(context)
    if connection is None:
        run_sql(operations, sql)
        return
    policy = ddl.policy_for(context)
    qualified_name = sibling(table, name)
    for attempt in range(1, policy.retries + 2):
        state = index_state(connection, qualified_name)
        if state == "valid":
            return
        if state == "invalid":
            # Our own repair of an unusable index, not a destructive change of the revision.
            with internal(context):
                run_sql(
                    operations, f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(qualified_name)}"
                )
        try:
            run_sql(operations, sql)
        except sa.exc.IntegrityError as err:
            raise PreconditionFailed(
                f"cannot build unique index {name} on {table}: {error_message(err)}; remove the "
                "duplicates and run again (the INVALID index the failed build left behind is "
                "rebuilt)"
            ) from err
        if index_state(connection, qualified_name) == "valid":
            return
        pause = policy.backoff(attempt)
        log.warning("index %s is INVALID after build %d; rebuilding in %.2fs", name, attempt, pause)
        policy.sleep(pause)
    raise ddl.LockRetriesExhausted(sql, policy.retries + 1, 0.0, [])


@register
class CreateIndex(PhasedOperation):
    """Build an index without blocking writes: ``CREATE INDEX CONCURRENTLY``, outside a transaction.

    ``op.expand_create_index("ix_customers_email", "customers", ["email"])``; columns may be
    expressions (``["lower(email)"]``), ``where`` makes a partial index. An INVALID index left by
    an earlier failed build is detected, dropped and rebuilt.
    """

    name = "expand_create_index"
    phase = Phase.EXPAND
    autocommit = True

    def __init__(
        self,
        index: str,
        table: str,
        columns: Sequence[str],
        *,
        unique: bool = False,
        where: str | None = None,
    ) -> None:
        self.index = index
        self.table = table
        self.columns = list(columns)
        self.unique = unique
        self.where = where

    def plan(self) -> list[str]:
        return [
            index_sql(self.index, self.table, self.columns, unique=self.unique, where=self.where)
        ]

    def apply(self, operations: Operations) -> None:
        with operations.get_context().autocommit_block():
            build_concurrently(operations, self.index, self.table, self.plan()[0])

    def reverse(self) -> PhasedOperation:
        from expandcontract.ops.drop_index import DropIndex

        return DropIndex(
            self.index, self.table, columns=self.columns, unique=self.unique, where=self.where
        )
