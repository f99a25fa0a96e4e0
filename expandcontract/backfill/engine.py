"""The backfill loop: one short transaction per batch, resumable, never aborted by a bad row.

Each batch, in one transaction: find the range (the next ``size`` keys after the cursor),
quarantine the rows ``reject_reason`` refuses, convert the pending rows of the range, move the
persisted cursor. A crash loses at most the uncommitted batch, which the next run redoes.

A batch that fails on the data itself (a value too long, a failed cast, a constraint) is
bisected (see :mod:`expandcontract.backfill.loop`): the row that raises is quarantined with the
database's message and the run goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill import store
from expandcontract.backfill.batch import BatchRunner
from expandcontract.backfill.checks import backfill_complete, resolve_converted
from expandcontract.backfill.errors import (
    BackfillBusy,
    BackfillInterrupted,
    BackfillSpecError,
)
from expandcontract.backfill.loop import BatchLoop, StopEvent
from expandcontract.backfill.paging import (
    CtidPager,
    Pager,
    TableInfo,
    inspect_table,
    make_pager,
)
from expandcontract.backfill.progress import make_reporter
from expandcontract.backfill.report import BackfillReport
from expandcontract.backfill.signals import StopSignals
from expandcontract.backfill.sizing import BatchSizer
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.statements import build_statements
from expandcontract.runtime.locking import advisory_lock

log = logging.getLogger("expandcontract.backfill")


def lock_key(name: str) -> str:
    """The advisory lock that keeps two runs of backfill ``name`` from sharing its cursor."""
    return f"expandcontract:backfill:{name}"


def _prepare(
    connection: Connection, spec: Backfill, table: TableInfo, restart: bool
) -> store.SavedState | None:
    """Load the persisted cursor, or start afresh; returns the saved state or None."""
    with connection.begin():
        saved = store.load_state(connection, spec.name)
        fresh = (
            restart
            or saved is None
            or saved.status == "complete"
            or saved.fingerprint != spec.fingerprint()
            or saved.key_columns != table.key_columns
        )
        if fresh:
            if saved is not None and saved.status != "complete" and not restart:
                log.warning(
                    "backfill %s: its definition changed since the saved cursor; starting over",
                    spec.name,
                )
            store.start_state(
                connection, spec.name, spec.table, spec.fingerprint(), table.key_columns
            )
            return None
        store.set_status(connection, spec.name, "running")
        return saved


def _total(connection: Connection, table: TableInfo, pager: Pager) -> int | None:
    if isinstance(pager, CtidPager):
        return pager.end_page
    if table.reltuples >= 0:
        return int(table.reltuples)
    # Never analysed (a fresh table): counting is still cheap next to converting it.
    with connection.begin():
        return int(
            connection.execute(sa.text(f"SELECT count(*) FROM {table.sql_name}")).scalar_one()
        )


def run_backfill(
    engine: sa.Engine,
    spec: Backfill,
    *,
    time_budget: float = 0.2,
    delay: float = 0.0,
    progress: bool | None = None,
    stop_event: StopEvent | None = None,
    initial_batch: int = 1000,
    max_batch: int = 500_000,
    lock_timeout: float = 1.0,
    lock_wait: float = 30.0,
    restart: bool = False,
    progress_stream: TextIO | None = None,
    progress_interval: float = 5.0,
) -> BackfillReport:
    """Convert every pending row of ``spec.table`` in short batches; return a report.

    Opens its own connection (run it inside Alembic's ``autocommit_block()``); each batch is
    one transaction that converts its rows, records its quarantined rows and moves the
    persisted cursor, so a killed run resumes after the last committed batch. Batches are
    sized so that each takes about ``time_budget`` seconds; ``delay`` seconds pass between
    batches. ``progress``: None or True shows a bar on a terminal and a line every
    ``progress_interval`` seconds otherwise, False shows nothing.

    Stops after the current batch when ``stop_event.is_set()`` (returns with ``stopped``) or
    on SIGINT/SIGTERM in the main thread (raises :class:`BackfillInterrupted`). A run of a
    backfill that already completed, or whose definition changed, starts from the beginning
    (rows that are no longer pending are skipped); ``restart=True`` forces that.

    With ctid pages (no primary key), rows the application updates during the run can move
    behind the pass; before it reports ``complete`` the whole table is checked again, and up to
    ``CTID_PASSES`` passes run until no row is pending. Otherwise the run ends ``stopped`` (not
    a false ``complete``), and running it again starts from the first page.
    """
    if time_budget <= 0:
        raise BackfillSpecError(f"time_budget must be positive, got {time_budget!r}")
    if lock_timeout <= 0:
        # PostgreSQL reads 0 as "wait for ever", the very stall the timeout is there to avoid.
        raise BackfillSpecError(f"lock_timeout must be positive, got {lock_timeout!r}")
    options = _PassOptions(
        time_budget,
        delay,
        progress,
        stop_event,
        initial_batch,
        max_batch,
        lock_timeout,
        lock_wait,
        progress_stream,
        progress_interval,
    )
    report = _run_pass(engine, spec, options, restart=restart)
    for _ in range(CTID_PASSES - 1):
        if not report.moved_rows_left:
            return report
        log.warning("backfill %s: rows moved during the ctid pass; scanning again", spec.name)
        report = _run_pass(engine, spec, options, restart=True)
    return report


CTID_PASSES = 3


@dataclass(frozen=True)
class _PassOptions:
    """:func:`run_backfill`'s options, the same for every pass (see its docstring)."""

    time_budget: float
    delay: float
    progress: bool | None
    stop_event: StopEvent | None
    initial_batch: int
    max_batch: int
    lock_timeout: float
    lock_wait: float
    progress_stream: TextIO | None
    progress_interval: float


def _run_pass(
    engine: sa.Engine, spec: Backfill, options: _PassOptions, *, restart: bool
) -> BackfillReport:
    """One pass over the table; :func:`run_backfill` decides whether another is needed."""
    started = time.monotonic()
    with engine.connect() as conn:
        store.ensure_tables(conn)
        with conn.begin():
            table = inspect_table(conn, spec)
            pager = make_pager(conn, table)
        with advisory_lock(
            conn,
            lock_key(spec.name),
            timedelta(seconds=options.lock_wait),
            lambda: BackfillBusy(
                f"backfill {spec.name!r} is already running in another session; "
                "wait for it to finish or stop it (its cursor is shared)"
            ),
        ):
            saved = _prepare(conn, spec, table, restart)
            report = BackfillReport(spec.name, spec.table, table.key_columns)
            report.resumed_from = saved.last_key if saved else None
            with conn.begin():
                # A re-run must not examine rows still open in quarantine again.
                reopened = store.open_quarantine_count(conn, spec.table, spec.name) > 0
            statements = build_statements(conn, spec, table, pager, reopened)
            runner = BatchRunner(conn, spec, pager, statements, int(options.lock_timeout * 1000))
            rows_per_unit = 1.0
            if table.uses_ctid:
                # Pages, not rows: size the first batch and judge the work share per page.
                rows_per_unit = max(
                    1.0, table.reltuples / table.relpages if table.relpages else 100
                )
            initial = max(1, int(options.initial_batch / rows_per_unit))
            # A floor of a few rows keeps throughput sane when the budget is unreachable.
            floor = 1 if table.uses_ctid else min(10, initial)
            sizer = BatchSizer(
                options.time_budget, size=initial, minimum=floor, maximum=options.max_batch
            )
            reporter = make_reporter(
                options.progress,
                spec.name,
                pager.unit,
                _total(conn, table, pager),
                saved.scanned if saved else 0,
                options.progress_stream,
                options.progress_interval,
            )
            with StopSignals() as signals, reporter:
                loop = BatchLoop(
                    runner,
                    sizer,
                    report,
                    saved,
                    reporter,
                    signals,
                    options.stop_event,
                    options.delay,
                    rows_per_unit,
                )
                report.complete = loop.run()
                report.stopped = not report.complete
            report.elapsed = time.monotonic() - started
            report.final_batch_size = sizer.size
            with conn.begin():
                if report.complete and table.uses_ctid and not backfill_complete(conn, spec):
                    # Rows the application moved behind the pass (or past its last page) are
                    # still pending: not complete, checked in the transaction that says so.
                    report.complete, report.stopped, report.moved_rows_left = False, True, True
                status = "complete" if report.complete else "stopped"
                store.set_status(conn, spec.name, status)
                if report.complete:
                    report.quarantine_resolved = resolve_converted(conn, spec)
    log.info(
        "backfill %s: %s, %d rows converted, %d quarantined, %d batches in %.1fs",
        spec.name,
        "complete" if report.complete else "stopped",
        report.rows_converted,
        report.rows_quarantined,
        report.batches,
        report.elapsed,
    )
    if signals.received:
        raise BackfillInterrupted(report, signals.received)
    return report
