"""Batch size adapted to a time budget.

Small fixed batches waste most of their time on per-batch overhead (1,000-row batches reached
only 0.61x of one set-based UPDATE on the reference machine); big fixed batches hold row locks
for seconds. So the size is recomputed after every batch from the measured cost per row.

The estimate is of the cost of a *full* batch, where every row needs converting: a batch that
mostly skipped rows (the sync trigger had filled them) is cheap, and sizing the next batch from
it alone would make that batch far too long when it reaches rows that do need work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Aim a little under the budget so that normal jitter stays within it.
TARGET_FILL = 0.85
# The share of rows assumed to need work when a batch mostly skipped rows.
MIN_FRACTION = 0.2
SMOOTHING = 0.3


@dataclass
class BatchSizer:
    """Next batch size in units (rows or pages) for a per-batch time budget in seconds."""

    budget: float
    size: int = 1000
    minimum: int = 1
    maximum: int = 500_000
    growth: float = 2.0
    cost_per_unit: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.size = max(self.minimum, min(self.size, self.maximum))

    def record(self, units: int, seconds: float, work_fraction: float) -> int:
        """Account one committed batch; return the size of the next one.

        ``work_fraction`` is the share of the batch's rows that were converted or quarantined.
        """
        if units <= 0:
            return self.size
        # Cost of a full batch, assuming at least MIN_FRACTION of the rows needed work; an
        # overestimate only makes batches shorter, which is the safe side.
        observed = seconds / units / max(min(work_fraction, 1.0), MIN_FRACTION)
        if self.cost_per_unit is None or observed > self.cost_per_unit:
            # Slow down at once (lock waits, a checkpoint), speed up gradually.
            self.cost_per_unit = observed
        else:
            self.cost_per_unit += SMOOTHING * (observed - self.cost_per_unit)
        wanted = self.budget * TARGET_FILL / max(self.cost_per_unit, 1e-9)
        ceiling = max(units, self.size) * self.growth
        self.size = int(max(self.minimum, min(wanted, ceiling, self.maximum)))
        return self.size

    def shrink(self, factor: float = 0.5) -> int:
        """Cut the size after a timeout or lock wait; returns the new size."""
        self.size = max(self.minimum, int(self.size * factor))
        return self.size
