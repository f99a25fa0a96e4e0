"""How long a CodeDeploy ECS deployment may take, from its deployment group's configuration.

A blue/green deployment goes: replacement task set up (install), lifecycle hooks, the Ready
wait (``deploymentReadyOption``), the production traffic shift (the deployment config's
``trafficRoutingConfig``), ``AfterAllowTraffic``, and then the original task set's
**termination wait**, during which CodeDeploy still reports ``InProgress``. A release is done
before that wait starts, so the wait is observation time, never part of our deadline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError, AwsError

# Replacement tasks pulled, started and healthy in their target group: generous for Fargate.
INSTALL_ALLOWANCE = timedelta(minutes=10)
# A Lambda hook runs at most 15 minutes; CodeDeploy waits up to an hour for its verdict, but
# our hooks answer from within their own invocation.
HOOK_ALLOWANCE = timedelta(minutes=15)
MARGIN = timedelta(minutes=10)

# The built-in ECS deployment configurations, so a budget needs no call for them.
BUILT_IN: dict[str, dict[str, Any]] = {
    "CodeDeployDefault.ECSAllAtOnce": {"type": "AllAtOnce"},
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1},
    },
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3},
    },
    "CodeDeployDefault.ECSCanary10Percent5Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    },
    "CodeDeployDefault.ECSCanary10Percent15Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    },
}


def shift_duration(routing: dict[str, Any]) -> tuple[timedelta, str]:
    """How long the production shift takes under ``trafficRoutingConfig``; and its description."""
    kind = routing.get("type", "AllAtOnce")
    if kind == "TimeBasedLinear":
        linear = routing.get("timeBasedLinear") or {}
        percent, every = (
            int(linear.get("linearPercentage", 10)),
            int(linear.get("linearInterval", 1)),
        )
        steps = math.ceil(100 / max(percent, 1))
        return timedelta(minutes=steps * every), f"linear {percent}% every {every} min"
    if kind == "TimeBasedCanary":
        canary = routing.get("timeBasedCanary") or {}
        percent, every = (
            int(canary.get("canaryPercentage", 10)),
            int(canary.get("canaryInterval", 1)),
        )
        return timedelta(minutes=every), f"canary {percent}% then the rest after {every} min"
    return timedelta(0), "all at once"


@dataclass(frozen=True)
class Budget:
    """The parts of a deployment's duration and the deadline they add up to."""

    install: timedelta
    hooks: timedelta
    ready_wait: timedelta
    shift: timedelta
    shift_description: str
    termination_wait: timedelta
    margin: timedelta = MARGIN

    @property
    def until_done(self) -> timedelta:
        """The longest a deployment should take until traffic is 100 % on green and confirmed."""
        return self.install + self.hooks + self.ready_wait + self.shift + self.margin

    @property
    def until_finished(self) -> timedelta:
        """Until CodeDeploy reports ``Succeeded`` (the termination wait included)."""
        return self.until_done + self.termination_wait

    def describe(self) -> str:
        return (
            f"install {_fmt(self.install)} + hooks {_fmt(self.hooks)} + ready wait up to "
            f"{_fmt(self.ready_wait)} + shift {_fmt(self.shift)} ({self.shift_description}) + "
            f"margin {_fmt(self.margin)} = {_fmt(self.until_done)}; then the original task set's "
            f"termination wait of {_fmt(self.termination_wait)} is observation time (the "
            "deployment stays InProgress, a rollback is instant)"
        )


def _fmt(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def deployment_group(aws: Aws, application: str, group: str) -> dict[str, Any]:
    """``deploymentGroupInfo`` of the group; a clear error when it does not exist."""
    try:
        answer = aws.codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=group
        )
    except AwsError as err:
        if err.code in ("DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException"):
            raise AwsConfigurationError(
                f"CodeDeploy deployment group {application}/{group} does not exist"
            ) from err
        raise
    return dict(answer["deploymentGroupInfo"])


def routing_config(aws: Aws, config_name: str) -> dict[str, Any]:
    """The ``trafficRoutingConfig`` of a deployment configuration (built-in ones known here)."""
    if config_name in BUILT_IN:
        return BUILT_IN[config_name]
    info = aws.codedeploy.get_deployment_config(deploymentConfigName=config_name)
    return dict((info.get("deploymentConfigInfo") or {}).get("trafficRoutingConfig") or {})


def budget_for(
    aws: Aws,
    group_info: dict[str, Any],
    *,
    config_name: str | None = None,
    hook_count: int = 0,
) -> Budget:
    """The budget of a deployment of ``group_info`` under ``config_name`` (default: the group's)."""
    blue_green = group_info.get("blueGreenDeploymentConfiguration") or {}
    ready = blue_green.get("deploymentReadyOption") or {}
    ready_wait = (
        timedelta(minutes=int(ready.get("waitTimeInMinutes") or 0))
        if ready.get("actionOnTimeout") == "STOP_DEPLOYMENT"
        else timedelta(0)
    )
    terminate = blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}
    termination = timedelta(minutes=int(terminate.get("terminationWaitTimeInMinutes") or 0))
    name = config_name or group_info.get("deploymentConfigName") or "CodeDeployDefault.ECSAllAtOnce"
    shift, description = shift_duration(routing_config(aws, str(name)))
    return Budget(
        install=INSTALL_ALLOWANCE,
        hooks=HOOK_ALLOWANCE * hook_count,
        ready_wait=ready_wait,
        shift=shift,
        shift_description=description,
        termination_wait=termination,
    )
