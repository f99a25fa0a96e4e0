"""Our own polling loop over a CodeDeploy deployment (the stock waiter gives up at 30 minutes).

Each round reads the deployment, its lifecycle events and the replacement task set's traffic
weight (printed when they change), checks the rollback alarms and, once green takes traffic,
compares green against blue in CloudWatch. Failure, an alarm, divergence or the timeout stop the
deployment with rollback and raise :class:`DeploymentFailed` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.codedeploy import deployment_progress, stop_with_rollback
from expandcontract.aws.errors import AwsTimeout, DeploymentFailed
from expandcontract.aws.metrics import (
    TargetGroupStats,
    Thresholds,
    alarms_firing,
    divergence,
    target_group_stats,
)
from expandcontract.ledger import Clock

TERMINAL_FAILURES = {"Failed", "Stopped"}


@dataclass(frozen=True)
class Comparison:
    """Blue (original) and green (replacement) target groups behind one production listener."""

    blue: str
    green: str
    listener_arn: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    window: timedelta = timedelta(minutes=5)


@dataclass
class Watch:
    aws: Aws
    clock: Clock
    sleep: Sleep
    echo: Echo
    alarms: Sequence[str] = ()
    comparison: Comparison | None = None
    poll_interval: float = 15.0

    def health_problems(self, since: datetime, *, green_only: bool = False) -> list[str]:
        """Alarms in ALARM and green's divergence from blue over the last window."""
        problems = [f"alarm {name}" for name in alarms_firing(self.aws, self.alarms)]
        if self.comparison is None:
            return problems
        now = self.clock()
        start = max(since, now - self.comparison.window)
        if now <= start:
            return problems
        c = self.comparison
        groups = [c.green] if green_only else [c.blue, c.green]
        stats = target_group_stats(self.aws, groups, c.listener_arn, start, now)
        green = stats[c.green]
        blue = stats.get(c.blue) or TargetGroupStats(0.0, 0.0, None)
        problems += divergence(blue, green, c.thresholds)
        return problems

    def deployment(self, deployment_id: str, timeout: timedelta) -> None:
        """Poll until the deployment succeeds; stop it with rollback and raise otherwise."""
        started = self.clock()
        deadline = started + timeout
        seen_events: dict[str, str] = {}
        last_weight: float | None = None
        shifting_since: datetime | None = None
        while True:
            info = self.aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = info.get("status", "Unknown")
            events, weights = deployment_progress(self.aws, deployment_id)
            for event in events:
                name, state = event.get("lifecycleEventName", "?"), event.get("status", "?")
                if seen_events.get(name) != state:
                    seen_events[name] = state
                    self.echo(f"  lifecycle {name}: {state}")
                if state == "Failed":
                    detail = (event.get("diagnostics") or {}).get("message", "")
                    self._fail(
                        deployment_id,
                        f"lifecycle hook {name} failed" + (f": {detail}" if detail else ""),
                        stop=status not in TERMINAL_FAILURES | {"Succeeded"},
                    )
            weight = weights.get("Green")
            if weight is not None and weight != last_weight:
                last_weight = weight
                self.echo(f"  traffic on green: {weight:g}%")
            if status == "Succeeded":
                self.echo(f"  deployment {deployment_id} succeeded")
                return
            if status in TERMINAL_FAILURES:
                error = info.get("errorInformation") or {}
                reason = error.get("message") or error.get("code") or f"deployment {status.lower()}"
                self._fail(deployment_id, f"deployment {status}: {reason}", stop=False)
            if weight and shifting_since is None:
                shifting_since = self.clock()
            problems = (
                self.health_problems(shifting_since)
                if shifting_since
                else [f"alarm {name}" for name in alarms_firing(self.aws, self.alarms)]
            )
            if problems:
                self._fail(deployment_id, "; ".join(problems), stop=True)
            if self.clock() >= deadline:
                stop_with_rollback(self.aws, deployment_id)
                raise AwsTimeout(
                    f"deployment {deployment_id} not finished after {timeout} (status {status}); "
                    "stopped it with rollback"
                )
            self.sleep(self.poll_interval)

    def soak(self, duration: timedelta) -> datetime:
        """Watch green alone for ``duration``; raise on an alarm or bad metrics; its start."""
        started = self.clock()
        end = started + duration
        while self.clock() < end:
            self.sleep(min(self.poll_interval, max((end - self.clock()).total_seconds(), 0.0)))
            problems = self.health_problems(started, green_only=True)
            if problems:
                raise DeploymentFailed(
                    "green became unhealthy before it could be marked stable: "
                    + "; ".join(problems)
                    + ". It is not marked stable; roll back with `expandcontract rollback`",
                    deployment_id="",
                    reason="; ".join(problems),
                )
        return started

    def _fail(self, deployment_id: str, reason: str, *, stop: bool) -> None:
        if stop:
            self.echo(f"  stopping deployment {deployment_id} with rollback: {reason}")
            stop_with_rollback(self.aws, deployment_id)
        raise DeploymentFailed(
            f"deployment {deployment_id} rolled back: {reason}",
            deployment_id=deployment_id,
            reason=reason,
        )
