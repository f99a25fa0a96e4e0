"""What the user watches while the rehearsal runs: phase, step, elapsed time and live figures.

On a terminal a rich live line (spinner, phase, step, elapsed, requests, failures, p99 over the
last seconds, traffic share) sits under a log of what happened; elsewhere (CI, pipes, tests)
each event is one plain line, so the log reads the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.text import Text

from expandcontract.rehearsal.timeline import Timeline, percentile

WINDOW_SECONDS = 3.0


class StoryProgress:
    """Prints the story as it happens; the live line is refreshed from the timeline."""

    def __init__(self, console: Console, timeline: Timeline) -> None:
        self.console = console
        self.timeline = timeline
        self.phase = "starting"
        self.step = ""
        self.library_messages: list[tuple[str, str]] = []  # (phase, message)
        self._live: Live | None = None

    def __enter__(self) -> StoryProgress:
        self.resume()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pause()

    def resume(self) -> None:
        """Show the live line (terminal only)."""
        if self.console.is_terminal and self._live is None:
            self._live = Live(
                _Status(self), console=self.console, refresh_per_second=4, transient=True
            )
            self._live.start()

    def pause(self) -> None:
        """Hide the live line, e.g. while the backfill draws its own progress bar."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def begin(self, phase: str, description: str = "") -> None:
        self.phase, self.step = phase, ""
        self.timeline.begin_phase(phase)
        text = f"[bold]{phase}[/bold]" + (f" - {description}" if description else "")
        self._say(text)

    def note(self, message: str, *, event: bool = False, kind: str = "story") -> None:
        """A step within the phase (``event`` also marks it on the report's timeline)."""
        self.step = message
        if event:
            self.timeline.event(message, kind)
        self._say(f"  {escape(message)}")

    def warn(self, message: str) -> None:
        self._say(f"  [yellow]{escape(message)}[/yellow]")

    @contextmanager
    def library_logs(self) -> Iterator[None]:
        """Show the library's warnings (lock retries, backfill notices) as story lines."""
        handler = _ToProgress(self)
        logger = logging.getLogger("expandcontract")
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)

    def messages(self, phase: str, containing: str) -> int:
        """How many library messages of ``phase`` contain ``containing``."""
        return sum(1 for p, m in self.library_messages if p == phase and containing in m)

    def _say(self, markup: str) -> None:
        elapsed = self.timeline.now()
        self.console.print(f"[dim]{elapsed:6.1f}s[/dim] {markup}", highlight=False)


class _ToProgress(logging.Handler):
    def __init__(self, progress: StoryProgress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.progress.library_messages.append((self.progress.phase, message))
        if "lock not available" in message or "retry" in message.lower():
            self.progress.timeline.event(message.splitlines()[0][:120], "retry")
        self.progress.console.print(
            f"[dim]{self.progress.timeline.now():6.1f}s     {escape(message)}[/dim]",
            highlight=False,
        )


class _Status:
    """The live line; rendered by rich a few times a second."""

    def __init__(self, progress: StoryProgress) -> None:
        self.progress = progress
        self.spinner = Spinner("dots")

    def __rich__(self) -> Any:
        p = self.progress
        now = p.timeline.now()
        samples = p.timeline.snapshot()
        recent = [s for s in samples if s.at >= now - WINDOW_SECONDS]
        failed = sum(1 for s in samples if s.failed)
        bad = sum(1 for s in samples if s.bad_read)
        p99 = percentile(sorted(s.latency_ms for s in recent), 99)
        green = sum(1 for s in recent if s.served_by == "green")
        answered = sum(1 for s in recent if s.served_by in ("blue", "green"))
        share = f"{green / answered:.0%}" if answered else "-"
        line = Text.assemble(
            (f" {p.phase}", "bold"),
            (f"  {p.step}" if p.step else ""),
            (f"  {time.strftime('%M:%S', time.gmtime(now))}", "dim"),
            f"  {len(samples):,} requests",
            (f"  {failed} failed", "red" if failed else "green"),
            (f"  {bad} bad reads", "red" if bad else "green"),
            f"  p99 {p99:,.0f} ms" if p99 is not None else "  p99 -",
            f"  green {share}",
        )
        self.spinner.text = line
        return self.spinner
