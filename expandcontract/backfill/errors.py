"""Errors raised by the backfill engine (all :class:`ExpandContractError` subclasses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expandcontract.errors import ConfigurationError, ExpandContractError

if TYPE_CHECKING:
    from expandcontract.backfill.report import BackfillReport


class BackfillSpecError(ConfigurationError):
    """The backfill specification is wrong: unknown table or column, invalid SQL fragment."""


class BackfillBusy(ExpandContractError):
    """Another process is running the same backfill right now."""


class BackfillFailed(ExpandContractError):
    """The database kept failing in a way that retrying cannot fix (the cursor is saved)."""


class BackfillInterrupted(ExpandContractError):
    """SIGINT or SIGTERM stopped the run between two batches; the cursor is saved.

    Raised (rather than returning) so that Alembic does not record the migration as applied.
    ``report`` tells how far the run got; running the same backfill again resumes there.
    """

    exit_code = 130

    def __init__(self, report: BackfillReport, signal_name: str) -> None:
        self.report = report
        self.signal_name = signal_name
        super().__init__(
            f"backfill {report.name!r} stopped by {signal_name} after {report.batches} batches "
            f"({report.rows_converted} rows converted, {report.rows_quarantined} quarantined); "
            "its cursor is saved, run it again to resume"
        )
