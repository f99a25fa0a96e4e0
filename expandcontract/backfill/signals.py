"""Turning SIGINT/SIGTERM into "stop after this batch" for the duration of a run."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopSignals:
    """While active, SIGINT and SIGTERM set :attr:`received` instead of killing the process.

    The current batch then finishes (or rolls back), the cursor stays persisted, and the run
    ends. A second signal falls back to the previous handler, so an impatient second Ctrl-C
    still interrupts at once (the open batch transaction rolls back). Outside the main
    thread, where Python cannot install handlers, this does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: str | None = None
        self._event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            previous = self._previous.get(signum)
            self.__exit__()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signum)
            return
        self.received = signal.Signals(signum).name
        self._event.set()

    def wait(self, seconds: float) -> None:
        """Sleep, but wake at once when a signal arrives."""
        self._event.wait(seconds)
