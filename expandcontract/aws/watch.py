"""Our own polling loop over a CodeDeploy deployment (the stock waiter gives up at 30 minutes).

Each round reads the deployment, its lifecycle events and the replacement task set's traffic
weight (printed when they change), checks the rollback alarms and, once green takes traffic,
compares green against blue in CloudWatch. A deployment held ``Ready`` is continued once green
passed its test-listener checks. Failure, an alarm, divergence or the timeout stop the
deployment with rollback and raise :class:`DeploymentFailed` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.codedeploy import (
    READY,
    continue_deployment,
    deployment_progress,
    stop_with_rollback,
)
from expandcontract.aws.errors import AwsTimeout, DeploymentFailed
from expandcontract.aws.metrics import (
    TargetGroupStats,
    Thresholds,
    alarms_firing,
    divergence,
    target_group_stats,
)
from expandcontract.aws.traffic import forwarded_target_group, healthy_targets
from expandcontract.ledger import Clock

TERMINAL_FAILURES = {"Failed", "Stopped"}
# The smoke-test hook that runs against the test listener; CodeDeploy marks it Skipped when
# the AppSpec names no Lambda for it.
TEST_TRAFFIC_HOOK = "AfterAllowTestTraffic"
HOOK_DONE = {"Succeeded", "Skipped"}


@dataclass(frozen=True)
class Comparison:
    """Blue (original) and green (replacement) target groups behind one production listener."""

    blue: str
    green: str
    listener_arn: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    window: timedelta = timedelta(minutes=5)


@dataclass
class _Progress:
    """What one deployment's polls have seen so far."""

    events: dict[str, str] = field(default_factory=dict)
    weight: float | None = None
    shifting_since: datetime | None = None
    continued: bool = False


@dataclass
class Watch:
    """Polls deployments and watches green; ``test_listener_arn`` enables the Ready check."""

    aws: Aws
    clock: Clock
    sleep: Sleep
    echo: Echo
    alarms: Sequence[str] = ()
    comparison: Comparison | None = None
    poll_interval: float = 15.0
    test_listener_arn: str | None = None

    def health_problems(self, since: datetime | None, *, green_only: bool = False) -> list[str]:
        """Alarms in ALARM and, once green takes traffic (``since``), its divergence from blue."""
        problems = [f"alarm {name}" for name in alarms_firing(self.aws, self.alarms)]
        if self.comparison is None or since is None:
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
        """Poll until the deployment succeeds; stop it with rollback and raise otherwise.

        When CodeDeploy holds the deployment ``Ready`` (green on the test listener, waiting
        under ``deployment_ready_option``), green is validated and the deployment continued,
        once: nobody else would, and it would stop and roll back when the wait runs out.
        """
        deadline = self.clock() + timeout
        progress = _Progress()
        while True:
            status = self._poll(deployment_id, progress)
            if status == "Succeeded":
                self.echo(f"  deployment {deployment_id} succeeded")
                return
            problems = self.health_problems(progress.shifting_since)
            if problems:
                self._fail(deployment_id, "; ".join(problems), stop=True)
            if status == READY and not progress.continued:
                progress.continued = self._continue_if_valid(deployment_id, progress.events)
                if progress.continued:
                    continue  # read the deployment again at once: the shift starts now
            if self.clock() >= deadline:
                stop_with_rollback(self.aws, deployment_id)
                raise AwsTimeout(
                    f"deployment {deployment_id} not finished after {timeout} (status {status}); "
                    "stopped it with rollback"
                )
            self.sleep(self.poll_interval)

    def _poll(self, deployment_id: str, progress: _Progress) -> str:
        """One read of the deployment: print what changed, raise on failure; its status."""
        info = self.aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        status = str(info.get("status", "Unknown"))
        events, weights = deployment_progress(self.aws, deployment_id)
        for event in events:
            name, state = event.get("lifecycleEventName", "?"), event.get("status", "?")
            if progress.events.get(name) != state:
                progress.events[name] = state
                self.echo(f"  lifecycle {name}: {state}")
            if state == "Failed":
                detail = (event.get("diagnostics") or {}).get("message", "")
                self._fail(
                    deployment_id,
                    f"lifecycle hook {name} failed" + (f": {detail}" if detail else ""),
                    stop=status not in TERMINAL_FAILURES | {"Succeeded"},
                )
        weight = weights.get("Green")
        if weight is not None and weight != progress.weight:
            progress.weight = weight
            self.echo(f"  traffic on green: {weight:g}%")
        if status in TERMINAL_FAILURES:
            error = info.get("errorInformation") or {}
            reason = error.get("message") or error.get("code") or f"deployment {status.lower()}"
            self._fail(deployment_id, f"deployment {status}: {reason}", stop=False)
        if weight and progress.shifting_since is None:
            progress.shifting_since = self.clock()
        return status

    def _continue_if_valid(self, deployment_id: str, events: dict[str, str]) -> bool:
        """Validate green before any production traffic reaches it, then continue; continued?"""
        hook = events.get(TEST_TRAFFIC_HOOK)
        if hook is not None and hook not in HOOK_DONE:
            return False  # the smoke test is still running: wait for its verdict
        if self.test_listener_arn:
            group = forwarded_target_group(self.aws, self.test_listener_arn)
            healthy = healthy_targets(self.aws, group)
            if not healthy:
                self._fail(
                    deployment_id,
                    f"green target group {group} behind the test listener has no healthy "
                    "targets; production traffic was not shifted",
                    stop=True,
                )
            self.echo(f"  test listener: {len(healthy)} healthy targets in {group}")
        self.echo(f"  continuing deployment {deployment_id}: production traffic shifts to green")
        if not continue_deployment(self.aws, deployment_id):
            self.echo("  (it had already been continued)")
        return True

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

    def _fail(self, deployment_id: str, reason: str, *, stop: bool) -> NoReturn:
        if stop:
            self.echo(f"  stopping deployment {deployment_id} with rollback: {reason}")
            stop_with_rollback(self.aws, deployment_id)
        raise DeploymentFailed(
            f"deployment {deployment_id} rolled back: {reason}",
            deployment_id=deployment_id,
            reason=reason,
        )
