"""Batch size adapted to a time budget.

Small fixed batches waste most of their time on per-batch overhead (1,000-row batches reached
only 0.61x of one set-based UPDATE on the reference machine); big fixed batches hold row locks
for seconds. So the size is recomputed after every batch from how long it took: scaled by
budget / duration, shrinking at once, growing at most ``growth``-fold per batch while far
below the budget and by half the indicated step near it (timings on a busy server are noisy).

Judging whole-batch durations (not a cost per row) keeps fixed per-batch overhead from
spiralling the size down. A batch that mostly skipped rows (the sync trigger had filled them)
is judged as if at least ``MIN_FRACTION`` of its rows had needed work, so that reaching rows
that do need work makes the next batch at most about twice too long, not many times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Aim at half the budget, so that a batch whose rows turn out twice as costly as the last
# one's (cold pages, a checkpoint, a busy neighbour) still ends within 1.25x the budget. At
# 0.68 the 1M-row benchmark saw a 434 ms batch against the 200 ms default budget; the fixed
# cost per batch is a few milliseconds, so the smaller batches cost little throughput. (0.4
# was tried: stalls of the whole machine still made an occasional batch of 300-400 ms, and no
# fill protects against those.)
TARGET_FILL = 0.5
# The share of rows assumed to need work when a batch mostly skipped rows: skipping a row
# costs a good part of converting it (both read it through the index), so this is moderate.
MIN_FRACTION = 0.5


@dataclass
class BatchSizer:
    """Next batch size in units (rows or pages) for a per-batch time budget in seconds."""

    budget: float
    size: int = 1000
    minimum: int = 1
    maximum: int = 500_000
    growth: float = 2.0
    overhead: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.size = max(self.minimum, min(self.size, self.maximum))

    def record(self, units: int, seconds: float, work_fraction: float) -> int:
        """Account one committed batch of ``units``; return the size of the next one.

        ``work_fraction`` is the share of the batch's rows that were converted or quarantined.
        """
        if units <= 0:
            return self.size
        # The quickest batch so far bounds the fixed per-batch cost (round trips, commit);
        # only the rest grows with the rows that need work. Overestimates are the safe side.
        self.overhead = seconds if self.overhead is None else min(self.overhead, seconds)
        variable = seconds - self.overhead
        full = self.overhead + variable / max(min(work_fraction, 1.0), MIN_FRACTION)
        target = self.budget * TARGET_FILL
        factor = target / max(full, 1e-6)
        if factor > 1.0 and full > target / 2:
            # Near the target, a quick batch is as likely noise as spare time: approach gently.
            factor = 1.0 + (factor - 1.0) / 2
        factor = min(factor, self.growth)
        if 1.0 <= factor < 1.1:
            # Close enough: do not chase timing noise.
            factor = 1.0
        self.size = int(max(self.minimum, min(units * factor, self.maximum)))
        return self.size

    def shrink(self, factor: float = 0.5) -> int:
        """Cut the size after a timeout or lock wait; returns the new size."""
        self.size = max(self.minimum, int(self.size * factor))
        return self.size
