"""What the load generator wrote, so every read can be checked against it.

Each customer is used by one request at a time (``checkout``), so the expected value of a
read is never racing a write the generator itself has in flight.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from expandcontract.rehearsal.addresses import Address


@dataclass(frozen=True)
class Expected:
    """A customer as last written: ``address`` is None for a seeded malformed address,
    whose structured form is expected to be missing (it is quarantined)."""

    id: int
    name: str
    email: str
    address: Address | None
    flat: str
    written_in_run: bool


class CustomerRegistry:
    """Expected state of every customer the rehearsal knows, with per-customer checkout."""

    def __init__(self, seed: int = 8) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._expected: dict[int, Expected] = {}
        self._ids: list[int] = []
        self._written: list[int] = []
        self._busy: set[int] = set()
        # Set once the contract dropped ``address``: unparseable addresses the operator
        # accepted are no longer expected to show (their originals are in the quarantine).
        self.contracted = False

    def record(self, expected: Expected) -> None:
        with self._lock:
            if expected.id not in self._expected:
                self._ids.append(expected.id)
                if expected.written_in_run:
                    self._written.append(expected.id)
            elif expected.written_in_run and not self._expected[expected.id].written_in_run:
                self._written.append(expected.id)
            self._expected[expected.id] = expected

    def checkout(self, recent: bool = False) -> Expected | None:
        """An idle customer, marked busy until :meth:`release`; None when all are busy.

        ``recent`` prefers customers written during the run (the interesting ones).
        """
        with self._lock:
            pool = self._written if recent and self._written else self._ids
            for _ in range(8):
                if not pool:
                    return None
                candidate = pool[self._random.randrange(len(pool))]
                if candidate not in self._busy:
                    self._busy.add(candidate)
                    return self._expected[candidate]
            return None

    def release(self, customer_id: int) -> None:
        with self._lock:
            self._busy.discard(customer_id)

    def written(self) -> list[Expected]:
        """Every customer created or updated during the run, in the order first written."""
        with self._lock:
            return [self._expected[i] for i in self._written]
