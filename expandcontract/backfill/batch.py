"""One batch transaction, and the single-row quarantine used when a batch fails on bad data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill import store
from expandcontract.backfill.paging import Pager, Range, TableInfo
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.statements import BatchStatements


def sqlstate(err: sa.exc.DBAPIError) -> str:
    return str(getattr(err.orig, "sqlstate", "") or "")


def error_message(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


@dataclass
class BatchRunner:
    """Everything one batch needs, bound once per run."""

    connection: Connection
    spec: Backfill
    table: TableInfo
    pager: Pager
    sql: BatchStatements
    lock_timeout_ms: int

    def _params(self, predicate_params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            **predicate_params,
            "table_name": self.spec.table,
            "backfill_name": self.spec.name,
            **extra,
        }

    def batch(self, cursor: tuple[str, ...] | None, size: int) -> tuple[Range | None, int, int]:
        """Run one batch transaction; returns (range, converted, quarantined), range None at the end."""
        conn = self.connection
        with conn.begin():
            conn.execute(sa.text(f"SET LOCAL lock_timeout = {self.lock_timeout_ms}"))
            rng = self.pager.next_range(conn, cursor, size)
            if rng is None:
                return None, 0, 0
            predicate, params = self.pager.predicate(rng)
            quarantined = 0
            if self.sql.quarantine_rejected:
                quarantined = conn.execute(
                    sa.text(self.sql.for_range(self.sql.quarantine_rejected, predicate)),
                    self._params(params),
                ).rowcount
            converted = conn.execute(
                sa.text(self.sql.for_range(self.sql.update, predicate)), params
            ).rowcount
            store.advance_state(conn, self.spec.name, rng.hi, rng.units, converted, quarantined)
        return rng, converted, quarantined

    def quarantine_failed(self, cursor: tuple[str, ...] | None, reason: str) -> Range | None:
        """Quarantine the single next row, whose conversion raised ``reason``."""
        conn = self.connection
        with conn.begin():
            rng = self.pager.next_range(conn, cursor, 1)
            if rng is None:
                return None
            predicate, params = self.pager.predicate(rng)
            args = self._params(params, reason=reason)
            try:
                with conn.begin_nested():
                    recorded = conn.execute(
                        sa.text(self.sql.for_range(self.sql.quarantine_row, predicate)), args
                    ).rowcount
            except sa.exc.DBAPIError:
                recorded = conn.execute(
                    sa.text(self.sql.for_range(self.sql.quarantine_row_plain, predicate)), args
                ).rowcount
            store.advance_state(conn, self.spec.name, rng.hi, rng.units, 0, recorded)
        return Range(rng.lo, rng.hi, recorded)
