"""What the report's header says about the run: tool and PostgreSQL versions, the machine and
its load, and the options the user set."""

from __future__ import annotations

import os
import threading
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sqlalchemy as sa

from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.timeline import Timeline

# Above this average CPU use the machine itself, not the migration, may explain slow requests.
SATURATED_CPU_PERCENT = 95.0


def tool_version() -> str:
    try:
        return version("expandcontract")
    except PackageNotFoundError:
        return "unknown"


def run_context(url: str, options: RehearsalOptions) -> dict[str, Any]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            server = connection.execute(sa.text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return {
        "tool_version": tool_version(),
        "postgresql_version": str(server).split()[0],
        "database": "embedded" if options.database_url is None else "scratch database",
        "cpus": os.cpu_count() or 1,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "options_set": options.user_set(),
    }


class MachineMonitor:
    """Samples the machine's CPU use once a second into the timeline (``cpu`` series)."""

    def __init__(self, timeline: Timeline, interval: float = 1.0) -> None:
        self.timeline = timeline
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import psutil

        psutil.cpu_percent(interval=None)  # the first call only sets the baseline

        def sample() -> None:
            while not self._stop.wait(self.interval):
                self.timeline.add_cpu(psutil.cpu_percent(interval=None))

        self._thread = threading.Thread(target=sample, name="rehearsal-cpu", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def summary(self) -> dict[str, Any]:
        values = [v for _, v in self.timeline.cpu]
        mean = sum(values) / len(values) if values else None
        return {
            "cpu_percent_mean": None if mean is None else round(mean, 1),
            "cpu_percent_max": max(values) if values else None,
            "load_average_at_end": round(os.getloadavg()[0], 2),
            "saturated": mean is not None and mean >= SATURATED_CPU_PERCENT,
        }
