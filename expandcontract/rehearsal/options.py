"""The rehearsal's knobs, with the defaults the README's first command uses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from expandcontract.errors import ConfigurationError


@dataclass(frozen=True)
class RehearsalOptions:
    """How big and how fast the rehearsal is.

    ``step_percent`` is the traffic moved to green per step (10 means 10 %, 20 %, ... 100 %);
    ``step_seconds`` is how long each step (and each steady phase) holds under load;
    ``report_seconds`` is how long the reporting query the expand has to get past holds its lock;
    ``max_p99_ms`` is the p99 latency (whole run) above which the run is not zero-downtime;
    ``bad_address_share`` is the fraction of written addresses blue accepts and the parser
    rejects (they reach the quarantine, before and after the backfill).
    """

    database_url: str | None = None
    rows: int = 20_000
    rps: float = 200.0
    step_percent: int = 10
    step_seconds: float = 2.0
    soak: timedelta = timedelta(seconds=10)
    report_path: Path | None = Path("rehearsal-report.html")
    naive: bool = False
    max_p99_ms: float = 500.0
    report_seconds: float = 2.0
    seed: int = 8
    bad_address_share: float = 0.02

    def __post_init__(self) -> None:
        if self.rows < 10:
            raise ConfigurationError("--rows must be at least 10")
        if not 1 <= self.rps <= 2000:
            raise ConfigurationError("--rps must be between 1 and 2000")
        if not 1 <= self.step_percent <= 100:
            raise ConfigurationError("--steps is the percent moved per step: 1 to 100")
        if self.step_seconds < 0.05:
            raise ConfigurationError("--step-seconds must be at least 0.05")
        if self.soak.total_seconds() < 0:
            raise ConfigurationError("--soak must not be negative")
        if self.max_p99_ms <= 0:
            raise ConfigurationError("--max-p99 must be positive (milliseconds)")
        if not 0 <= self.bad_address_share <= 0.5:
            raise ConfigurationError("--bad-addresses is a percent of the writes: 0 to 50")

    def shift_steps(self) -> list[int]:
        """Green's share after each step, ending at 100."""
        shares = list(range(self.step_percent, 100, self.step_percent))
        return [*shares, 100]

    def user_set(self) -> dict[str, str]:
        """The knobs a user can set, as command-line flags (internal fields left out)."""
        return {
            "--database-url": "embedded server" if self.database_url is None else "given server",
            "--rows": f"{self.rows:,}",
            "--rps": f"{self.rps:g}",
            "--steps": f"{self.step_percent} %",
            "--step-seconds": f"{self.step_seconds:g}s",
            "--soak": f"{self.soak.total_seconds():g}s",
            "--max-p99": f"{self.max_p99_ms:g} ms",
            "--bad-addresses": f"{self.bad_address_share * 100:g} % of writes",
            "--naive": "yes" if self.naive else "no",
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["soak"] = f"{self.soak.total_seconds():g}s"
        data["report_path"] = str(self.report_path) if self.report_path else None
        data["database_url"] = "embedded" if self.database_url is None else "given"
        return data
