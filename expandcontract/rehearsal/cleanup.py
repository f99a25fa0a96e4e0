"""However a rehearsal ends, what it started is stopped and what it created is removed.

Two parts:

- :class:`Interrupts` turns SIGINT and SIGTERM (Ctrl-C, CI cancellation, ``timeout``,
  a container stop) into one :class:`RehearsalInterrupted` raised in the main thread, holds
  signals back while a resource is being created (so nothing exists that the clean-up does
  not know of), and ignores further signals while the clean-up runs.
- :class:`Cleanup` is an ``ExitStack`` whose every entry also says how to check that the
  thing is gone, so the rehearsal's closing message says "removed" only when it is true.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

_NAMES: dict[int, str] = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class RehearsalInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``leftovers`` is filled in once the clean-up ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(_NAMES.get(signum, str(signum)))
        self.signum = signum
        self.leftovers: list[str] = []

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 + the signal number (130 for Ctrl-C, 143 for TERM)."""
        return 128 + self.signum


class Interrupts:
    """SIGINT/SIGTERM handling for one run (a no-op outside the main thread)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._deferring = 0
        self._pending: int | None = None
        self._shielded = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in _NAMES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._shielded:
            return  # the clean-up is running: let it finish
        if self._deferring:
            self._pending = signum
            return
        self._shielded = True
        raise RehearsalInterrupted(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold signals back while a resource is created and registered for clean-up."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring and self._pending is not None and not self._shielded:
            signum, self._pending = self._pending, None
            self._shielded = True
            raise RehearsalInterrupted(signum)

    def shield(self) -> None:
        """From now on signals are noted but do not interrupt (the clean-up has begun)."""
        self._shielded = True

    def check(self) -> None:
        """Raise now if a signal arrived while deferred (e.g. just before the clean-up)."""
        if self._pending is not None and not self._shielded:
            signum, self._pending = self._pending, None
            self._shielded = True
            raise RehearsalInterrupted(signum)


@dataclass
class _Entry:
    what: str
    gone: Callable[[], bool]


@dataclass
class Cleanup:
    """An exit stack of things to stop or remove, each with a check that it is gone."""

    stack: ExitStack = field(default_factory=ExitStack)
    entries: list[_Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    closed: bool = False

    def enter(self, what: str, context: Any, gone: Callable[[], bool]) -> Any:
        """Enter a context manager; ``gone()`` tells afterwards whether ``what`` is removed."""
        value = self.stack.enter_context(context)
        self.entries.append(_Entry(what, gone))
        return value

    def callback(self, what: str, stop: Callable[[], object], gone: Callable[[], bool]) -> None:
        """Call ``stop()`` at the end; ``gone()`` tells whether ``what`` is really stopped."""

        def guarded() -> None:
            try:
                stop()
            except Exception as err:  # one failed stop must not keep the others from running
                self.errors.append(f"{what}: {err}")

        self.stack.callback(guarded)
        self.entries.append(_Entry(what, gone))

    def close(self) -> list[str]:
        """Run every clean-up step; return what is still there (empty when all is gone)."""
        if not self.closed:
            self.closed = True
            try:
                self.stack.close()
            except Exception as err:
                self.errors.append(str(err))
        return self.leftovers()

    def leftovers(self) -> list[str]:
        left = []
        for entry in self.entries:
            try:
                gone = entry.gone()
            except Exception:
                gone = False
            if not gone:
                left.append(entry.what or "an internal part of the run")
        return left + [f"clean-up error: {e}" for e in self.errors]

    def removed(self) -> list[str]:
        """What was cleaned up, in the order it was created."""
        return [e.what for e in self.entries if e.what]
