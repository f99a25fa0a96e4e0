"""Parsing of the durations and timestamps users type on the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from expandcontract.errors import ConfigurationError

_SIMPLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$", re.IGNORECASE)
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Nobody soaks a release, or waits for a lock, for longer than ten years: a bigger number is a
# typo, and Python's timedelta would overflow on it anyway.
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``30m``, ``24h``, ``3d``, ``1w``, ``250ms`` or ISO-8601 ``P1DT2H``."""
    value = str(text).strip()
    match = _SIMPLE.match(value)
    iso = _ISO.match(value)
    seconds: float | None = None
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    elif iso and value.upper() not in ("P", "PT") and not value.upper().endswith("T"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        seconds = (
            parts.get("w", 0) * 604800
            + parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
    if seconds is not None:
        if seconds > MAX_DURATION.total_seconds():
            raise ConfigurationError(
                f"duration {text!r} is longer than {MAX_DURATION.days // 365} years: "
                "check the number and the unit"
            )
        return timedelta(seconds=seconds)
    raise ConfigurationError(
        f"cannot parse duration {text!r}: use a number with a unit (90s, 30m, 24h, 3d) "
        "or ISO-8601 (P1D, PT12H)"
    )


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp with an offset (``Z``, ``+02:00``), or ``now``.

    A timestamp without an offset is refused: read as UTC, a New York operator's soak would
    end five hours early.
    """
    value = str(text).strip()
    if value.lower() == "now":
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ConfigurationError(
            f"cannot parse timestamp {text!r}: use ISO-8601, e.g. 2026-11-26T09:30:00Z"
        ) from err
    if parsed.tzinfo is None:
        raise ConfigurationError(
            f"timestamp {text!r} has no UTC offset: add one, e.g. {value}Z or {value}-05:00"
        )
    return parsed.astimezone(UTC)


def format_duration(delta: timedelta) -> str:
    """Render a duration for people: ``1d 2h 3m``, ``45s``."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    if secs or not parts:
        parts.append(f"{secs}s")
    return " ".join(parts)


#: A source of the current time (injected into the AWS commands' waits; the guard
#: and the ledger never take one: they read the database's clock).
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
