"""Our own polling loop over a CodeDeploy deployment (the stock waiter gives up at 30 minutes).

Each round reads the deployment, its lifecycle events and the replacement task set's traffic
weight (printed when they change), checks the rollback alarms and, once green takes traffic,
compares green against blue in CloudWatch. A deployment held ``Ready`` is continued once green
passed its test-listener checks.

When is it done: production traffic is 100 % on the replacement task set and
``AfterAllowTraffic`` succeeded (or CodeDeploy says ``Succeeded``). CodeDeploy keeps the
deployment ``InProgress`` for the original task set's termination wait after that; the wait is
observation time, not something to outlast. A failure, an alarm or divergence stop the
deployment with rollback. Our own deadline never does once production traffic reached green:
the deployment is left running and :class:`DeploymentUnfinished` says where it stands.
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
from expandcontract.aws.errors import (
    AwsError,
    AwsTimeout,
    CredentialsExpired,
    DeploymentFailed,
    DeploymentUnfinished,
)
from expandcontract.aws.metrics import (
    TargetGroupStats,
    Thresholds,
    alarms_firing,
    divergence,
    target_group_stats,
)
from expandcontract.aws.traffic import forwarded_target_group, healthy_targets
from expandcontract.durations import Clock

TERMINAL_FAILURES = {"Failed", "Stopped"}
# The smoke-test hook that runs against the test listener; CodeDeploy marks it Skipped when
# the AppSpec names no Lambda for it.
TEST_TRAFFIC_HOOK = "AfterAllowTestTraffic"
AFTER_TRAFFIC_HOOK = "AfterAllowTraffic"
HOOK_DONE = {"Succeeded", "Skipped"}
ALREADY_FINISHED = "DeploymentAlreadyCompletedException"


@dataclass(frozen=True)
class Comparison:
    """Blue (original) and green (replacement) target groups behind one production listener."""

    blue: str
    green: str
    listener_arn: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    window: timedelta = timedelta(minutes=5)


@dataclass
class Standing:
    """Where one deployment stands, as its polls have seen it."""

    deployment_id: str
    status: str = "Unknown"
    events: dict[str, str] = field(default_factory=dict)
    weight: float | None = None
    shifting_since: datetime | None = None
    continued: bool = False
    terminating: bool = False
    done_at: datetime | None = None

    @property
    def traffic_on_green(self) -> bool:
        """Production traffic has reached the replacement task set (some or all of it)."""
        # Once continued, the shift may start any second: treat it as started.
        return bool(self.weight) or self.continued

    @property
    def done(self) -> bool:
        """100 % of production traffic on green and ``AfterAllowTraffic`` confirmed it."""
        if self.status == "Succeeded" or self.terminating:
            return True  # the termination wait starts only after AfterAllowTraffic succeeded
        return (
            (self.weight or 0.0) >= 100.0
            and self.events.get("AllowTraffic", "Succeeded") == "Succeeded"
            and self.events.get(AFTER_TRAFFIC_HOOK) in HOOK_DONE
        )

    def where(self) -> dict[str, object]:
        """A JSON-ready summary for messages and the ledger."""
        return {
            "deployment_id": self.deployment_id,
            "status": self.status,
            "green_traffic_percent": self.weight,
            "lifecycle": dict(self.events),
        }

    def describe(self) -> str:
        pending = [
            f"{name} {state}" for name, state in self.events.items() if state not in HOOK_DONE
        ]
        traffic = "unknown" if self.weight is None else f"{self.weight:g}%"
        return f"status {self.status}, production traffic on green {traffic}" + (
            f", pending: {', '.join(pending)}" if pending else ""
        )


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

    def deployment(
        self, deployment_id: str, timeout: timedelta, *, own: bool = False, finish: bool = False
    ) -> Standing:
        """Poll until the deployment is done; return where it stands then.

        When CodeDeploy holds the deployment ``Ready`` (green on the test listener, waiting
        under ``deployment_ready_option``), green is validated and the deployment continued,
        once: nobody else would, and it would stop and roll back when the wait runs out.

        ``own`` marks a deployment that is itself the way back (a rollback): it is never
        stopped by us, whatever happens; failures are reported, not undone. ``finish`` waits
        for ``Succeeded`` (CodeDeploy's own rollback deployments, which have no termination
        wait).

        At ``timeout``: before production traffic reached green the deployment is stopped with
        rollback (blue still serves everything); after, it is left running and
        :class:`DeploymentUnfinished` says where it stands.
        """
        deadline = self.clock() + timeout
        standing = Standing(deployment_id)
        while True:
            try:
                self._poll(standing, own=own)
            except CredentialsExpired as err:
                raise self._unfinished(
                    standing,
                    f"the AWS credentials expired ({err.code}) while watching",
                ) from err
            except AwsError as err:
                if not err.transient or self.clock() >= deadline:
                    raise
                # Throttling or a blip that outlasted the retries: the next round reads again.
                self.echo(f"  (could not read the deployment this round: {err}; retrying)")
                self.sleep(self.poll_interval)
                continue
            if standing.status == "Succeeded" or (standing.done and not finish):
                standing.done_at = self.clock()
                self.echo(
                    f"  deployment {deployment_id}: production traffic 100% on green and "
                    f"{AFTER_TRAFFIC_HOOK} succeeded"
                    + (
                        ""
                        if standing.status == "Succeeded"
                        else f" (CodeDeploy: {standing.status})"
                    )
                )
                return standing
            if not own:
                problems = self.health_problems(standing.shifting_since)
                if problems:
                    self._fail(standing, "; ".join(problems), stop=True)
            if standing.status == READY and not standing.continued:
                standing.continued = self._continue_if_valid(standing, own=own)
                if standing.continued:
                    continue  # read the deployment again at once: the shift starts now
            if self.clock() >= deadline:
                if own or standing.traffic_on_green:
                    raise self._unfinished(standing, f"not done after {timeout}")
                stop_with_rollback(self.aws, deployment_id)
                raise AwsTimeout(
                    f"deployment {deployment_id} not done after {timeout} ({standing.describe()}) "
                    "before any production traffic reached green; stopped it with rollback, "
                    "blue kept serving"
                )
            self.sleep(self.poll_interval)

    def _unfinished(self, standing: Standing, why: str) -> DeploymentUnfinished:
        deployment_id = standing.deployment_id
        waiting = ""
        if standing.status == READY and not standing.continued:
            waiting = (
                " It waits Ready for someone to continue it (after checking the test listener: "
                f"`aws deploy continue-deployment --deployment-id {deployment_id} "
                "--deployment-wait-type READY_WAIT`); CodeDeploy stops it when the Ready wait "
                "ends."
            )
        return DeploymentUnfinished(
            f"deployment {deployment_id}: {why}. It was NOT stopped and keeps going in AWS "
            f"({standing.describe()}).{waiting} Check it with `aws deploy get-deployment "
            f"--deployment-id {deployment_id}`; CodeDeploy still rolls it back on its own "
            "alarms. To undo it: `expandcontract rollback`",
            deployment_id=deployment_id,
            where=standing.where(),
        )

    def _poll(self, standing: Standing, *, own: bool) -> None:
        """One read of the deployment: print what changed, raise on failure."""
        deployment_id = standing.deployment_id
        info = self.aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        status = str(info.get("status", "Unknown"))
        if status != standing.status:
            self.echo(f"  deployment {deployment_id}: {status}")
        standing.status = status
        standing.terminating = bool(info.get("instanceTerminationWaitTimeStarted"))
        events, weights = deployment_progress(self.aws, deployment_id)
        for event in events:
            name, state = event.get("lifecycleEventName", "?"), event.get("status", "?")
            if standing.events.get(name) != state:
                standing.events[name] = state
                self.echo(f"  lifecycle {name}: {state}")
            if state == "Failed":
                detail = (event.get("diagnostics") or {}).get("message", "")
                self._fail(
                    standing,
                    f"lifecycle hook {name} failed" + (f": {detail}" if detail else ""),
                    stop=not own and status not in TERMINAL_FAILURES | {"Succeeded"},
                )
        weight = weights.get("Green")
        if weight is not None and weight != standing.weight:
            standing.weight = weight
            self.echo(f"  traffic on green: {weight:g}%")
        if status in TERMINAL_FAILURES:
            error = info.get("errorInformation") or {}
            reason = error.get("message") or error.get("code") or f"deployment {status.lower()}"
            self._fail(standing, f"deployment {status}: {reason}", stop=False)
        if weight and standing.shifting_since is None:
            standing.shifting_since = self.clock()

    def _continue_if_valid(self, standing: Standing, *, own: bool) -> bool:
        """Validate green before any production traffic reaches it, then continue; continued?"""
        deployment_id = standing.deployment_id
        hook = standing.events.get(TEST_TRAFFIC_HOOK)
        if hook is not None and hook not in HOOK_DONE:
            return False  # the smoke test is still running: wait for its verdict
        if self.test_listener_arn:
            group = forwarded_target_group(self.aws, self.test_listener_arn)
            healthy = healthy_targets(self.aws, group)
            if not healthy:
                self._fail(
                    standing,
                    f"green target group {group} behind the test listener has no healthy "
                    "targets; production traffic was not shifted",
                    stop=not own,
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

    def _fail(self, standing: Standing, reason: str, *, stop: bool) -> NoReturn:
        deployment_id = standing.deployment_id
        if stop:
            self.echo(f"  stopping deployment {deployment_id} with rollback: {reason}")
            try:
                stop_with_rollback(self.aws, deployment_id)
            except AwsError as err:
                # CodeDeploy got there first (a failed hook fails the deployment itself): the
                # reason that matters is ours, not "already completed".
                if err.code != ALREADY_FINISHED:
                    raise
        raise DeploymentFailed(
            f"deployment {deployment_id} failed: {reason}",
            deployment_id=deployment_id,
            reason=reason,
        )
