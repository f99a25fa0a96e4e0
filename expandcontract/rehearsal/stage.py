"""The stage the story plays on: database, releases, router, load, and the shared moves.

Both stories (the library's way and the naive way) use these moves; they differ only in how
they change the schema and in what they check before moving traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.config import Config

from expandcontract.rehearsal.customers import CustomerRegistry
from expandcontract.rehearsal.operator import QuarantineLog
from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.progress import StoryProgress
from expandcontract.rehearsal.router import WeightedRouter
from expandcontract.rehearsal.servers import AppServer
from expandcontract.rehearsal.timeline import Timeline

if TYPE_CHECKING:
    from expandcontract.rehearsal.state_probe import StateRehearsal

DRAIN_SECONDS = 1.0


@dataclass
class Stage:
    """Everything a story step may touch. ``green`` is None until green is deployed."""

    options: RehearsalOptions
    url: str
    config: Config
    workdir: Path
    timeline: Timeline
    progress: StoryProgress
    registry: CustomerRegistry
    router: WeightedRouter
    blue: AppServer
    # Holds SIGINT/SIGTERM back while a process starts, so the clean-up knows of it.
    deferred: Callable[[], AbstractContextManager[None]] = nullcontext
    green: AppServer | None = None
    green_ready: bool = False  # healthy: the test listener's smoke reads may reach it
    server_env: dict[str, str] = field(default_factory=dict)  # shared services, for green
    # The state beyond the database (sessions, events, exports, flags); read by its probe.
    state: StateRehearsal | None = None
    # The quarantine's story: rows quarantined, refusals, how the operator resolved them.
    quarantine: QuarantineLog = field(default_factory=QuarantineLog)

    def hold(self) -> None:
        """Let the load run for a while in the current state."""
        time.sleep(self.options.step_seconds)

    def note_phase(self, text: str) -> None:
        """Attach a remark to the current phase (shown in the report)."""
        phase = self.timeline.phases[-1]
        phase.note = f"{phase.note}; {text}" if phase.note else text

    def v1_live(self) -> None:
        # Cold caches and new pool connections are not the migration's doing: a phase of their
        # own keeps them out of the v1 baseline.
        self.progress.begin("warm-up", "load starts; blue opens its connections")
        self.hold()
        self.progress.begin("v1 live", "blue serves 100 % on the v1 schema")
        self.hold()

    def deploy_green(self) -> None:
        self.progress.begin(
            "deploy green", "start green, wait for /health; test traffic only, no users yet"
        )
        green = AppServer("green", self.url, self.workdir, self.server_env)
        with self.deferred():
            self.green = green
            # 90 s: on a loaded machine gunicorn plus the state services (boto3) start slowly.
            green.start(timeout=90.0)
        body = green.wait_healthy()
        self.green_ready = True
        self.router.add_backend("green", green.port, weight=0)
        self.progress.note(
            f"green healthy: schema {body.get('schema')}", event=True, kind="release"
        )
        self.hold()

    def shift(self, phase: str) -> None:
        self.progress.begin(phase, f"move traffic to green in {self.options.step_percent} % steps")
        for share in self.options.shift_steps():
            self.router.set_weights(blue=100 - share, green=share)
            self.progress.note(f"green {share} %", event=True, kind="traffic")
            self.hold()

    def roll_back(self, *, check_blue: bool) -> None:
        """Traffic back to blue. The safe way first checks blue can serve (never flip a
        listener to a target that is not healthy); the naive way flips blindly."""
        status, _ = self.blue.health() if check_blue else (200, {})
        self.progress.begin("rollback", "send all traffic back to blue")
        if status != 200:
            self.progress.warn(f"blue is not healthy (HTTP {status}): rollback refused")
            self.note_phase("rollback refused: blue unhealthy")
            self.hold()
            return
        self.router.set_weights(blue=100, green=0)
        self.progress.note("rollback: blue 100 %", event=True, kind="traffic")
        self.hold()

    def retire_blue(self) -> None:
        self.progress.begin("blue retired", "blue stopped; green serves alone")
        self.router.set_weights(blue=0, green=100)
        # Deregistration delay: requests already on their way to blue finish first.
        time.sleep(DRAIN_SECONDS)
        self.router.remove_backend("blue")
        self.blue.stop()
        self.progress.note("blue retired (stopped)", event=True, kind="release")
        self.hold()
