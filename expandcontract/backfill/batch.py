"""One batch transaction, and the salvage of a unit whose batch failed on bad data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill import store
from expandcontract.backfill.paging import Pager, Range
from expandcontract.backfill.spec import BACKFILL_SESSION_FLAG, Backfill
from expandcontract.backfill.statements import BatchStatements

# SQLSTATE classes caused by a row's data (cardinality, data exception, integrity, check
# option, raised by a PL/pgSQL parse function): such a row goes to quarantine.
DATA_ERROR_CLASSES = ("21", "22", "23", "44", "P0")


def sqlstate(err: sa.exc.DBAPIError) -> str:
    # psycopg 3 names it ``sqlstate``, psycopg2 (a caller's own engine) ``pgcode``.
    return str(getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None) or "")


def is_data_error(err: sa.exc.DBAPIError) -> bool:
    """True when the error comes from a row's data rather than the SQL or the server."""
    return sqlstate(err).startswith(DATA_ERROR_CLASSES)


def error_message(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


@dataclass
class BatchRunner:
    """Everything one batch needs, bound once per run."""

    connection: Connection
    spec: Backfill
    pager: Pager
    sql: BatchStatements
    lock_timeout_ms: int

    def _params(self, predicate_params: dict[str, Any]) -> dict[str, Any]:
        return {
            **predicate_params,
            "table_name": self.spec.table,
            "backfill_name": self.spec.name,
        }

    def _begin(self) -> Any:
        transaction = self.connection.begin()
        # One round trip, three settings for this transaction only:
        # - never queue behind an application transaction for long: fail, back off, retry;
        # - tell the sync trigger these writes are the backfill's (it skips them);
        # - do not wait for the commit to reach disk. A batch lost in a crash is lost with
        #   its cursor (the same transaction), so the run redoes it; the run's last commit
        #   (its status) is synchronous and makes every batch before it durable.
        self.connection.execute(
            sa.text(
                "SELECT set_config('lock_timeout', :lock_timeout, true), "
                "set_config(:flag, 'on', true), set_config('synchronous_commit', 'off', true)"
            ),
            {"lock_timeout": f"{self.lock_timeout_ms}ms", "flag": BACKFILL_SESSION_FLAG},
        )
        return transaction

    def _run(self, statement: str, predicate: str, params: dict[str, Any]) -> int:
        return int(
            self.connection.execute(
                sa.text(self.sql.for_range(statement, predicate)), self._params(params)
            ).rowcount
        )

    def _convert(self, predicate: str, params: dict[str, Any]) -> tuple[int, int]:
        """Convert the rows selected by ``predicate``, quarantining the rejected ones."""
        converted, quarantined = self.connection.execute(
            sa.text(self.sql.for_range(self.sql.convert, predicate)), self._params(params)
        ).one()
        return int(converted), int(quarantined)

    def batch(self, cursor: tuple[str, ...] | None, size: int) -> tuple[Range | None, int, int]:
        """Run one batch transaction; returns (range, converted, quarantined).

        The range is None when no rows are left after ``cursor``.
        """
        with self._begin():
            rng = self.pager.next_range(self.connection, cursor, size)
            if rng is None:
                return None, 0, 0
            converted, quarantined = self._convert(*self.pager.predicate(rng))
            store.advance_state(
                self.connection, self.spec.name, rng.hi, rng.units, converted, quarantined
            )
        return rng, converted, quarantined

    def salvage(self, cursor: tuple[str, ...] | None) -> tuple[Range | None, int, int]:
        """Convert the next single unit (a row, or a page) row by row; quarantine what raises.

        Bisection ends here, with a unit whose batch failed: its rows are converted under
        savepoints, halving the set until each row that raises (in its conversion, in
        ``pending`` or in ``reject_reason``) is alone; such a row is quarantined with the
        database's message as the reason.
        """
        conn = self.connection
        with self._begin():
            rng = self.pager.next_range(conn, cursor, 1)
            if rng is None:
                return None, 0, 0
            predicate, params = self.pager.predicate(rng)
            keys = (
                conn.execute(
                    sa.text(self.sql.for_range(self.sql.range_keys, predicate)),
                    self._params(params),
                )
                .scalars()
                .all()
            )
            converted, quarantined = self._convert_rows(predicate, params, list(keys))
            store.advance_state(conn, self.spec.name, rng.hi, rng.units, converted, quarantined)
        return rng, converted, quarantined

    def _convert_rows(
        self, predicate: str, params: dict[str, Any], keys: list[str]
    ) -> tuple[int, int]:
        """Convert ``keys`` under a savepoint, halving the set until the failing rows are alone."""
        if not keys:
            return 0, 0
        rows = f"{predicate} AND {self.pager.key_text()} = ANY(CAST(:row_keys AS text[]))"
        rows_params = {**params, "row_keys": keys}
        try:
            with self.connection.begin_nested():
                return self._convert(rows, rows_params)
        except sa.exc.DBAPIError as err:
            if not is_data_error(err):
                raise
            if len(keys) == 1:
                return 0, self._quarantine_row(rows, rows_params, err)
        half = len(keys) // 2
        first = self._convert_rows(predicate, params, keys[:half])
        second = self._convert_rows(predicate, params, keys[half:])
        return first[0] + second[0], first[1] + second[1]

    def _quarantine_row(self, row: str, params: dict[str, Any], err: sa.exc.DBAPIError) -> int:
        params = {**params, "reason": f"conversion failed: {error_message(err)}"}
        try:
            with self.connection.begin_nested():
                return self._run(self.sql.quarantine_row, row, params)
        except sa.exc.DBAPIError:
            # The ``original`` expression (or the source) raises too: keep the row as JSON.
            return self._run(self.sql.quarantine_row_plain, row, params)
