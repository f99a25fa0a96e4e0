"""The adaptive batch loop: sizing, bisection on bad data, retries, stop requests."""

from __future__ import annotations

import logging
import random
import time
from typing import Protocol

import sqlalchemy as sa

from expandcontract.backfill.batch import BatchRunner, error_message, is_data_error, sqlstate
from expandcontract.backfill.errors import BackfillFailed, BackfillSpecError
from expandcontract.backfill.progress import ProgressReporter
from expandcontract.backfill.report import BackfillReport
from expandcontract.backfill.signals import StopSignals
from expandcontract.backfill.sizing import BatchSizer
from expandcontract.backfill.store import SavedState

log = logging.getLogger("expandcontract.backfill")

# Worth retrying as they are: lock timeout, deadlock, serialization failure, statement timeout.
TRANSIENT_STATES = ("55P03", "40P01", "40001", "57014")
MAX_TRANSIENT_RETRIES = 20
# After a bad row, batches restart this small (or at the gap seen before it) and double.
MIN_RAMP = 16


class StopEvent(Protocol):
    def is_set(self) -> bool: ...


class BatchLoop:
    """Runs batches from the cursor to the end of the table, or until asked to stop.

    When a batch fails on bad data it is bisected: ``zone`` is the size of the shortest range
    after the cursor known to hold a failing row, and each attempt takes half of it, so the
    row is isolated in about log2(batch size) short transactions. After quarantining it,
    batches ramp up again from roughly the gap between bad rows, so dense bad data costs
    small failed attempts rather than full-size ones.
    """

    def __init__(
        self,
        runner: BatchRunner,
        sizer: BatchSizer,
        report: BackfillReport,
        saved: SavedState | None,
        reporter: ProgressReporter,
        signals: StopSignals,
        stop_event: StopEvent | None,
        delay: float,
        rows_per_unit: float = 1.0,
    ) -> None:
        self.runner = runner
        self.sizer = sizer
        self.report = report
        self.reporter = reporter
        self.signals = signals
        self.stop_event = stop_event
        self.delay = delay
        self.rows_per_unit = rows_per_unit
        self.cursor = saved.last_key if saved else None
        # What the runs before this one did: progress shows the whole backfill.
        self.before = (
            (saved.scanned, saved.rows_converted, saved.rows_quarantined) if saved else (0, 0, 0)
        )
        self.zone = 0
        self.zone_passed = 0
        self.ramp: int | None = None
        self.transient = 0

    def stopping(self) -> bool:
        if self.signals.received:
            return True
        return self.stop_event is not None and self.stop_event.is_set()

    def _next_size(self) -> int:
        if self.zone:
            return max(1, self.zone // 2)
        if self.ramp is not None:
            return min(self.ramp, self.sizer.size)
        return self.sizer.size

    def run(self) -> bool:
        """Loop until the end (returns True) or a stop request (returns False)."""
        while not self.stopping():
            t0 = time.monotonic()
            size = self._next_size()
            try:
                if self.zone == 1:
                    rng, converted, quarantined = self.runner.salvage(self.cursor)
                else:
                    rng, converted, quarantined = self.runner.batch(self.cursor, size)
            except sa.exc.DBAPIError as err:
                self._note_seconds(time.monotonic() - t0)
                self._on_error(err, size)
                continue
            seconds = time.monotonic() - t0
            self.transient = 0
            if rng is None:
                return True
            self._note_seconds(seconds)
            self.report.batches += 1
            self._account(rng.hi, rng.units, converted, quarantined)
            if rng.units < size:
                # A short range reached the end key fixed when the run started: rows inserted
                # since then are the sync trigger's (chasing them would never end). Nothing is
                # learnt from it: sized by the rows left, not by the budget, it would leave the
                # reported batch size at twice the remainder.
                return True
            self._adapt(rng.units, seconds, converted + quarantined)
            if self.delay > 0 and not self.stopping():
                self.signals.wait(self.delay)
        return False

    def _adapt(self, units: int, seconds: float, worked: int) -> None:
        if self.zone == 1:
            # The failing unit was salvaged: ramp up again from about the gap before it.
            self.ramp = max(MIN_RAMP, self.zone_passed)
            self.zone = self.zone_passed = 0
        elif self.zone:
            # The failing row lies after this range: keep halving what is left of the zone.
            self.zone = max(0, self.zone - units)
            self.zone_passed = self.zone_passed + units if self.zone else 0
        elif self.ramp is not None:
            self.ramp *= 2
            if self.ramp >= self.sizer.size:
                self.ramp = None
        else:
            rows = units * self.rows_per_unit
            self.sizer.record(units, seconds, worked / max(rows, 1))

    def _note_seconds(self, seconds: float) -> None:
        self.report.batch_seconds.append(seconds)
        self.report.max_batch_seconds = max(self.report.max_batch_seconds, seconds)

    def _account(self, hi: tuple[str, ...], units: int, converted: int, quarantined: int) -> None:
        self.cursor = hi
        report = self.report
        report.scanned += units
        report.rows_converted += converted
        report.rows_quarantined += quarantined
        scanned, converted_before, quarantined_before = self.before
        self.reporter.update(
            scanned + report.scanned,
            converted_before + report.rows_converted,
            quarantined_before + report.rows_quarantined,
        )

    def _on_error(self, err: sa.exc.DBAPIError, size: int) -> None:
        """Handle a failed batch: bisect on bad data, retry transient failures, else raise."""
        state = sqlstate(err)
        name = self.runner.spec.name
        # A salvage catches every row's data error itself: one that escapes it is no row's.
        if is_data_error(err) and self.zone != 1:
            # The failing row is within the first ``size`` units after the cursor.
            self.zone = size
            return
        if state in TRANSIENT_STATES and self.transient < MAX_TRANSIENT_RETRIES:
            self.transient += 1
            self.report.retries += 1
            self.sizer.shrink()
            log.info("backfill %s: %s; retrying the batch", name, error_message(err))
            time.sleep(min(2.0, 0.05 * 2**self.transient) * random.uniform(0.5, 1.0))
            return
        if state.startswith("42"):
            raise BackfillSpecError(
                f"backfill {name!r}: its SQL is invalid: {error_message(err)}"
            ) from err
        raise BackfillFailed(
            f"backfill {name!r} failed: {error_message(err)} (its cursor is saved; "
            "run it again to resume)"
        ) from err
