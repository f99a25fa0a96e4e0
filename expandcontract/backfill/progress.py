"""Progress of a running backfill: a rich bar on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import TextIO


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return str(timedelta(seconds=int(seconds)))


class ProgressReporter:
    """Silent base: knows totals and rates, prints nothing."""

    def __init__(self, name: str, unit: str, total: int | None, done: int) -> None:
        self.name = name
        self.unit = unit
        self.total = total
        self.initial = done
        self.done = done
        self.converted = 0
        self.quarantined = 0
        self.started = time.monotonic()

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def rate(self) -> float:
        """Units per second in this run."""
        elapsed = time.monotonic() - self.started
        return (self.done - self.initial) / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, self.total - self.done) / self.rate

    def update(self, done: int, converted: int, quarantined: int) -> None:
        self.done = done
        self.converted = converted
        self.quarantined = quarantined
        if self.total is not None and done > self.total:
            # The estimate came from planner statistics; never show more than 100 %.
            self.total = done

    def close(self) -> None:
        """Called once when the run ends, however it ends."""

    def line(self) -> str:
        """One human-readable status line."""
        if self.total:
            amount = (
                f"{self.done:,}/{self.total:,} {self.unit} ({100 * self.done / self.total:.1f}%)"
            )
        else:
            amount = f"{self.done:,} {self.unit}"
        return (
            f"backfill {self.name}: {amount}, {self.rate:,.0f} {self.unit}/s, "
            f"ETA {_eta(self.eta_seconds)}, converted {self.converted:,}, "
            f"quarantined {self.quarantined:,}"
        )


class LineReporter(ProgressReporter):
    """Writes a status line every ``interval`` seconds and a last one at the end (logs, CI)."""

    def __init__(
        self,
        name: str,
        unit: str,
        total: int | None,
        done: int,
        stream: TextIO,
        interval: float = 5.0,
    ) -> None:
        super().__init__(name, unit, total, done)
        self.stream = stream
        self.interval = interval
        self._last = time.monotonic()

    def update(self, done: int, converted: int, quarantined: int) -> None:
        super().update(done, converted, quarantined)
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write()

    def _write(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        self._write()


class BarReporter(ProgressReporter):
    """A rich progress bar with rows/s and ETA, for an interactive terminal."""

    def __init__(self, name: str, unit: str, total: int | None, done: int, stream: TextIO) -> None:
        super().__init__(name, unit, total, done)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("backfill [bold]{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._progress.add_task(name, total=total, completed=done, rate="", counts="")
        self._progress.start()

    def update(self, done: int, converted: int, quarantined: int) -> None:
        super().update(done, converted, quarantined)
        self._progress.update(
            self._task,
            completed=done,
            total=self.total,
            rate=f"{self.rate:,.0f} {self.unit}/s",
            counts=f"converted {converted:,}, quarantined {quarantined:,}",
        )

    def close(self) -> None:
        self._progress.stop()


def make_reporter(
    enabled: bool | None,
    name: str,
    unit: str,
    total: int | None,
    done: int,
    stream: TextIO | None = None,
    interval: float = 5.0,
) -> ProgressReporter:
    """The reporter for ``progress=`` (None or True: bar on a terminal, lines otherwise)."""
    if enabled is False:
        return ProgressReporter(name, unit, total, done)
    stream = stream or sys.stderr
    if stream.isatty():
        return BarReporter(name, unit, total, done, stream)
    return LineReporter(name, unit, total, done, stream, interval)
