"""Settings, read from ``[tool.expandcontract]`` in the project's ``pyproject.toml``.

The linter reads its own keys (``select``, ``ignore``, ``severity``) from the same table; this
module owns the runtime ones.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from expandcontract.durations import parse_duration
from expandcontract.errors import ConfigurationError

# Every table expandcontract keeps in the target database starts with this (kept out of
# autogenerate and out of the linter's judgement).
OWN_TABLE_PREFIX = "expandcontract_"
LEDGER_TABLE = f"{OWN_TABLE_PREFIX}ledger"
# On PostgreSQL the ledger and the guard's approvals live in their own schema, always named in
# full (never found through search_path, so no schema named after a role can shadow them).
LEDGER_SCHEMA = "expandcontract"


@dataclass(frozen=True)
class Settings:
    """Runtime policy. Every field has a safe default."""

    soak: timedelta = timedelta(hours=24)
    require_snapshot: bool = False
    # The lock schedule (runtime/ddl.py explains it): each DDL statement waits outside the lock
    # queue until nothing conflicting is held (``wait_for_blockers``), then tries with a
    # ``lock_timeout`` of ``lock_timeout_start``, doubling per timed-out attempt up to
    # ``lock_timeout`` (also the session's value for everything else the run does), at most
    # ``lock_retries`` retries and ``lock_wait`` in all.
    lock_timeout: timedelta = timedelta(seconds=1)
    lock_timeout_start: timedelta = timedelta(milliseconds=100)
    lock_retries: int = 8
    lock_wait: timedelta = timedelta(minutes=2)
    wait_for_blockers: bool = True
    statement_timeout: timedelta = timedelta(seconds=60)
    migration_lock_timeout: timedelta = timedelta(seconds=60)
    # The shortest soak a stable mark may carry; off by default so CI and tests soak briefly.
    minimum_soak: timedelta = timedelta(0)

    @property
    def lock_timeout_ms(self) -> int:
        return int(self.lock_timeout.total_seconds() * 1000)

    @property
    def lock_timeout_start_ms(self) -> int:
        return max(1, int(self.lock_timeout_start.total_seconds() * 1000))

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Settings:
        durations = {
            "soak",
            "lock_timeout",
            "lock_timeout_start",
            "lock_wait",
            "statement_timeout",
            "migration_lock_timeout",
            "minimum_soak",
        }
        kwargs: dict[str, Any] = {}
        for key in durations:
            if key in data:
                kwargs[key] = parse_duration(str(data[key]))
        for flag in ("require_snapshot", "wait_for_blockers"):
            if flag in data:
                if not isinstance(data[flag], bool):
                    raise ConfigurationError(f"[tool.expandcontract] {flag} must be true or false")
                kwargs[flag] = data[flag]
        if "lock_retries" in data:
            retries = data["lock_retries"]
            if not isinstance(retries, int) or retries < 0:
                raise ConfigurationError(
                    "[tool.expandcontract] lock_retries must be an integer >= 0"
                )
            kwargs["lock_retries"] = retries
        return cls(**kwargs)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(start: str | Path | None = None) -> Settings:
    """Settings from the nearest ``pyproject.toml`` (defaults when there is none)."""
    path = find_pyproject(Path(start) if start else Path.cwd())
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigurationError(f"{path}: {err}") from err
    table = document.get("tool", {}).get("expandcontract", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: [tool.expandcontract] must be a table")
    return Settings.from_mapping(table)
