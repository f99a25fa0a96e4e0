"""The one exception hierarchy of expandcontract.

Library code raises these; the CLI maps them to messages and exit codes, and under plain
``alembic`` every one of them is also a :class:`alembic.util.CommandError`, so Alembic prints
the message instead of a traceback.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic.util import CommandError


class ExpandContractError(CommandError):
    """Root of every error expandcontract raises on purpose."""

    exit_code = 1


class ConfigurationError(ExpandContractError):
    """Bad configuration or bad input: a duration, a timestamp, a phase, a config file."""

    exit_code = 2


class HistoryError(ConfigurationError):
    """The revision history breaks the phase rules (no phase branch, two heads on one branch)."""

    def __init__(self, message: str, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


class MissingHookError(ConfigurationError):
    """env.py does not call expandcontract, so nothing would guard the contract."""


class DatabaseUnavailableError(ExpandContractError):
    """The database could not be reached."""


class ContractRefused(ExpandContractError):
    """The contract guard refused to apply (or downgrade across) destructive revisions.

    ``reasons`` lists every failed condition; ``allowed_at`` is when the soak ends, if the soak
    is what blocks.
    """

    exit_code = 3

    def __init__(
        self,
        reasons: list[str],
        revisions: list[str] | None = None,
        allowed_at: datetime | None = None,
        remaining: timedelta | None = None,
    ) -> None:
        self.reasons = reasons
        self.revisions = revisions or []
        self.allowed_at = allowed_at
        self.remaining = remaining
        target = ", ".join(self.revisions) or "contract"
        lines = "\n".join(f"  - {r}" for r in reasons)
        super().__init__(f"contract refused for {target}:\n{lines}")


class PhaseViolation(ExpandContractError):
    """A revision did something its phase forbids (for example DROP COLUMN during expand)."""

    def __init__(self, message: str, revision: str | None = None, phase: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision
        self.phase = phase


class PreconditionFailed(ExpandContractError):
    """A contract operation found the live data not ready (backfill incomplete, quarantine open)."""


class MigrationLockTimeout(ExpandContractError):
    """Another migration run held the advisory lock for longer than we were willing to wait."""
