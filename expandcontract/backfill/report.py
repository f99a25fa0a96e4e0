"""What one backfill run did."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BackfillReport:
    """What one call of :func:`run_backfill` did."""

    name: str
    table: str
    key: tuple[str, ...]
    """Primary key columns the run paged on, or ``("ctid",)``."""
    rows_converted: int = 0
    rows_quarantined: int = 0
    """Rows newly recorded in quarantine by this run."""
    scanned: int = 0
    """Rows (or, on ctid, pages) this run walked, converted or not."""
    batches: int = 0
    elapsed: float = 0.0
    max_batch_seconds: float = 0.0
    """The longest batch transaction, from BEGIN to the end of COMMIT."""
    resumed_from: tuple[str, ...] | None = None
    """The persisted cursor this run started after, or None for a fresh start."""
    complete: bool = False
    stopped: bool = False
    """True when ``stop_event`` or a signal ended the run early."""
    moved_rows_left: bool = False
    """A ctid pass ended with rows still pending (the application moved them behind it)."""
    quarantine_resolved: int = 0
    """Open quarantine entries closed because their rows no longer need converting."""
    retries: int = 0
    final_batch_size: int = 0
    batch_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def rows_per_second(self) -> float:
        return self.rows_converted / self.elapsed if self.elapsed > 0 else 0.0
