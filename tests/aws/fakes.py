"""Fakes where moto stops: a scripted CodeDeploy, a clock that moves only when slept on.

moto's CodeDeploy deployments never progress and it has no ``stop_deployment`` or
``continue_deployment``, so :class:`FakeCodeDeploy` plays a scripted deployment behind the same
interface. :class:`FakeTime`'s ``sleep`` advances the clock and fires scheduled scenario
events, so no test waits for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError


class FakeTime:
    """A clock that only moves when someone sleeps; events fire when their time comes."""

    def minutes(self, count: int) -> list[datetime]:
        """``count`` timestamps a minute apart, from now on (for seeding metrics ahead)."""
        return [self.now + timedelta(seconds=30 + 60 * i) for i in range(count)]

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        self.slept: list[float] = []
        self._events: list[tuple[datetime, Callable[[], None]]] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        due = [e for e in self._events if e[0] <= self.now]
        self._events = [e for e in self._events if e[0] > self.now]
        for _, action in due:
            action()

    def at(self, offset: timedelta, action: Callable[[], None]) -> None:
        self._events.append((self.now + offset, action))


def throttling(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation
    )


@dataclass
class Step:
    """One poll of a scripted deployment."""

    status: str = "InProgress"
    green_weight: float = 0.0
    events: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    diagnostics: str | None = None


class FakeCodeDeploy:
    """A CodeDeploy client whose deployments follow ``steps``, one per ``get_deployment``.

    ``steps[0]`` is the deployment as created. Like the real service under
    ``deployment_ready_option``, a deployment does not leave its last ``Ready`` step until
    ``continue_deployment`` is called. ``timeline`` lists the statuses read and each continue.
    """

    def __init__(self, steps: list[Step] | None = None, throttle: dict[str, int] | None = None):
        self.steps = steps if steps is not None else default_steps()
        self.throttle = dict(throttle or {})
        self.deployments: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.stopped: list[dict[str, Any]] = []
        self.continued: list[dict[str, Any]] = []
        self.timeline: list[str] = []
        self.calls: list[str] = []
        # Called when a deployment reaches Ready, as the real CodeDeploy has registered the
        # replacement tasks behind the test listener by then.
        self.on_ready: Callable[[], None] = lambda: None
        # Called with the AppSpec's task definition when a deployment succeeds, as the real
        # CodeDeploy makes it the service's primary task set.
        self.on_success: Callable[[str], None] = lambda task_definition: None
        # The deployment group's configuration (a ``tests.aws.simulator.Group``), set by the
        # world fixture, so the preflight and the budget read what a real group answers.
        self.group: Any = None

    def get_deployment_group(self, **params: Any) -> dict[str, Any]:
        from tests.aws.simulator import group_answer

        self._enter("get_deployment_group")
        return group_answer(self.group, params)

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.throttle.get(operation, 0) > 0:
            self.throttle[operation] -= 1
            raise throttling(operation)

    def add_active(self, status: str = "InProgress") -> str:
        deployment_id = f"d-ACTIVE{len(self.deployments)}"
        self.deployments[deployment_id] = {"status": status, "step": 0, "steps": [Step(status)]}
        return deployment_id

    def list_deployments(self, **params: Any) -> dict[str, Any]:
        self._enter("list_deployments")
        wanted = set(params.get("includeOnlyStatuses") or [])
        return {
            "deployments": [
                i for i, d in self.deployments.items() if not wanted or d["status"] in wanted
            ]
        }

    def create_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("create_deployment")
        deployment_id = f"d-FAKE{len(self.deployments)}"
        self.created.append(params)
        self.deployments[deployment_id] = {
            "status": "Created",
            "step": 0,
            "steps": self.steps,
            "appspec": json.loads(params["revision"]["appSpecContent"]["content"]),
        }
        return {"deploymentId": deployment_id}

    def _current(self, deployment_id: str) -> Step:
        d = self.deployments[deployment_id]
        steps = d["steps"]
        return steps[min(d["step"], len(steps) - 1)] if steps else Step(d["status"])

    def get_deployment(self, deploymentId: str) -> dict[str, Any]:
        self._enter("get_deployment")
        d = self.deployments[deploymentId]
        upcoming = d["steps"][min(d["step"] + 1, len(d["steps"]) - 1)] if d["steps"] else None
        waiting = (
            d["status"] == "Ready"
            and not d.get("continued")
            and (upcoming is None or upcoming.status != "Ready")
        )
        if d["status"] not in ("Stopped", "Succeeded") and not waiting:
            d["step"] += 1
            d["status"] = self._current(deploymentId).status
            if d["status"] == "Ready":
                self.on_ready()
            if d["status"] == "Succeeded" and "appspec" in d:
                resource = d["appspec"]["Resources"][0]["TargetService"]["Properties"]
                self.on_success(resource["TaskDefinition"])
        self.timeline.append(d["status"])
        step = self._current(deploymentId)
        info: dict[str, Any] = {"deploymentId": deploymentId, "status": d["status"]}
        if step.error and d["status"] != "Stopped":
            info["errorInformation"] = {"code": "HEALTH_CONSTRAINTS", "message": step.error}
        return {"deploymentInfo": info}

    def list_deployment_targets(self, deploymentId: str) -> dict[str, Any]:
        self._enter("list_deployment_targets")
        return {"targetIds": ["cluster:service"]}

    def get_deployment_target(self, deploymentId: str, targetId: str) -> dict[str, Any]:
        self._enter("get_deployment_target")
        step = self._current(deploymentId)
        events = []
        for name, status in step.events.items():
            event: dict[str, Any] = {"lifecycleEventName": name, "status": status}
            if status == "Failed" and step.diagnostics:
                event["diagnostics"] = {"errorCode": "Failed", "message": step.diagnostics}
            events.append(event)
        return {
            "deploymentTarget": {
                "ecsTarget": {
                    "lifecycleEvents": events,
                    "taskSetsInfo": [
                        {"taskSetLabel": "Blue", "trafficWeight": 100.0 - step.green_weight},
                        {"taskSetLabel": "Green", "trafficWeight": step.green_weight},
                    ],
                }
            }
        }

    def continue_deployment(
        self, deploymentId: str, deploymentWaitType: str = "READY_WAIT"
    ) -> dict[str, Any]:
        self._enter("continue_deployment")
        d = self.deployments.get(deploymentId)
        if d is None or d["status"] != "Ready":
            code, message = (
                ("DeploymentDoesNotExistException", f"no deployment {deploymentId}")
                if d is None
                else ("DeploymentIsNotInReadyStateException", "the deployment is not Ready")
            )
            raise ClientError({"Error": {"Code": code, "Message": message}}, "ContinueDeployment")
        self.continued.append(
            {"deploymentId": deploymentId, "deploymentWaitType": deploymentWaitType}
        )
        self.timeline.append("continue")
        d["continued"] = True
        d["status"] = "InProgress"
        return {}

    def stop_deployment(
        self, deploymentId: str, autoRollbackEnabled: bool = False
    ) -> dict[str, Any]:
        self._enter("stop_deployment")
        self.stopped.append(
            {"deploymentId": deploymentId, "autoRollbackEnabled": autoRollbackEnabled}
        )
        self.deployments[deploymentId]["status"] = "Stopped"
        return {"status": "Pending", "statusMessage": "stopping"}


def default_steps() -> list[Step]:
    """Green up, smoke-tested, held Ready until continued, then a linear shift in two polls."""
    tested = {"Install": "Succeeded", "AfterAllowTestTraffic": "Succeeded"}
    return [
        Step("Created"),
        Step("InProgress", 0.0, {"Install": "Succeeded", "AfterAllowTestTraffic": "InProgress"}),
        Step("Ready", 0.0, tested),
        Step("InProgress", 50.0, {**tested, "AllowTraffic": "InProgress"}),
        Step("InProgress", 100.0, {**tested, "AllowTraffic": "Succeeded"}),
        Step("Succeeded", 100.0, {**tested, "AllowTraffic": "Succeeded"}),
    ]


class Delegate:
    """A client that forwards to a real (moto) client, with chosen operations replaced."""

    def __init__(self, inner: Any, **overrides: Callable[..., Any]) -> None:
        self._inner = inner
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._inner, name)
