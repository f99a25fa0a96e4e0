"""A deterministic CodeDeploy ECS blue/green simulator on a fake clock.

moto's CodeDeploy deployments never leave ``Created``, so this plays the real lifecycle
behind the client interface, computed from the fake clock at every call:

BeforeInstall → Install (replacement task set registered in the idle target group) →
AfterInstall → AllowTestTraffic (test listener → idle group) → AfterAllowTestTraffic → the
Ready wait (``Ready`` until ``ContinueDeployment``; stopped and rolled back when the wait runs
out) → BeforeAllowTraffic → AllowTraffic (the deployment config's linear/canary shift of the
replacement task set's weight, mirrored on the moto production listener) → AfterAllowTraffic →
the original task set's termination wait (status stays ``InProgress``) → ``Succeeded``.

A failed hook fails the deployment; ``StopDeployment`` with rollback creates CodeDeploy's
rollback deployment (creator ``codeDeployRollback``) that puts production back on the original
task set. Every request is validated against botocore's CodeDeploy model and every answer is
checked against it (:mod:`tests.aws.model`); ``inject`` scripts throttling, blips and expired
tokens.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tests.aws.fakes import FakeTime
from tests.aws.model import check_response, validate_request

EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
HOOKS = {"BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic"}
HOOKS |= {"AfterAllowTraffic"}
ACTIVE = {"Created", "Queued", "InProgress", "Baking", "Ready"}
FINISHED = {"Succeeded", "Failed", "Stopped"}
ROUTING = {
    "CodeDeployDefault.ECSAllAtOnce": (100, 0),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": (10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": (10, 3),
}


def error(code: str, message: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@dataclass
class Group:
    """The deployment group's configuration (what ``get_deployment_group`` answers)."""

    application: str
    name: str
    cluster: str
    service: str
    target_groups: tuple[str, str]  # names
    prod_listener: str
    test_listener: str
    config_name: str = "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"
    ready_action: str = "STOP_DEPLOYMENT"
    ready_wait_minutes: int = 60
    termination_wait_minutes: int = 120
    alarms: tuple[str, ...] = ()
    auto_rollback: bool = True
    service_role: str = "arn:aws:iam::123456789012:role/ec-codedeploy"


@dataclass
class Deployment:
    id: str
    task_definition: str
    created: datetime
    hooks: dict[str, str]
    original: str  # target group ARN serving production before
    replacement: str
    description: str = ""
    creator: str = "user"
    config_name: str = ""
    status: str = "Created"
    events: dict[str, str] = field(default_factory=lambda: dict.fromkeys(EVENTS, "Pending"))
    weight: float = 0.0
    stage: int = 0
    stage_started: datetime | None = None
    error: dict[str, str] | None = None
    rollback_id: str | None = None
    triggered_by: str | None = None
    termination_started: bool = False
    continued: bool = False


def group_answer(g: Group, params: dict[str, Any]) -> dict[str, Any]:
    """``GetDeploymentGroup``'s answer for ``g`` (or CodeDeploy's error for another group)."""
    if params["deploymentGroupName"] != g.name or params["applicationName"] != g.application:
        raise error("DeploymentGroupDoesNotExistException", "no such group", "GetDeploymentGroup")
    return {
        "deploymentGroupInfo": {
            "applicationName": g.application,
            "deploymentGroupName": g.name,
            "deploymentConfigName": g.config_name,
            "serviceRoleArn": g.service_role,
            "computePlatform": "ECS",
            "deploymentStyle": {
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
            "blueGreenDeploymentConfiguration": {
                "deploymentReadyOption": {
                    "actionOnTimeout": g.ready_action,
                    "waitTimeInMinutes": g.ready_wait_minutes,
                },
                "terminateBlueInstancesOnDeploymentSuccess": {
                    "action": "TERMINATE",
                    "terminationWaitTimeInMinutes": g.termination_wait_minutes,
                },
            },
            "autoRollbackConfiguration": {
                "enabled": g.auto_rollback,
                "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"],
            },
            "alarmConfiguration": {
                "enabled": bool(g.alarms),
                "alarms": [{"name": name} for name in g.alarms],
            },
            "ecsServices": [{"serviceName": g.service, "clusterName": g.cluster}],
            "loadBalancerInfo": {
                "targetGroupPairInfoList": [
                    {
                        "targetGroups": [{"name": name} for name in g.target_groups],
                        "prodTrafficRoute": {"listenerArns": [g.prod_listener]},
                        "testTrafficRoute": {"listenerArns": [g.test_listener]},
                    }
                ]
            },
        }
    }


class CodeDeploySimulator:
    """The CodeDeploy client of one deployment group, with ECS and the ALB in moto."""

    install = timedelta(minutes=3)
    hook_time = timedelta(minutes=2)
    test_traffic = timedelta(minutes=1)
    reroute = timedelta(minutes=1)

    def __init__(
        self,
        time: FakeTime,
        group: Group,
        *,
        ecs: Any,
        elbv2: Any,
        target_group_arns: dict[str, str],
        live_task_definition: str,
    ) -> None:
        self.time = time
        self.group = group
        self.ecs = ecs
        self.elbv2 = elbv2
        self.arns = target_group_arns  # name -> ARN
        self.live = target_group_arns[group.target_groups[0]]
        self.serving = {self.live: live_task_definition}  # target group -> task definition
        self.deployments: dict[str, Deployment] = {}
        self.hook_results: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: dict[str, list[str]] = {}
        self.prod_weights = {self.live: 100.0}

    # -- scripting ------------------------------------------------------------------------

    def inject(self, operation: str, code: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` fail with ``code``."""
        self.faults.setdefault(operation, []).extend([code] * times)

    def production(self) -> dict[str, float]:
        """Task definition → share of production traffic (the listener's truth)."""
        shares: dict[str, float] = {}
        for arn, weight in self.prod_weights.items():
            if weight:
                task = self.serving.get(arn, "?")
                shares[task] = shares.get(task, 0.0) + weight
        return shares

    def operations(self, name: str) -> list[dict[str, Any]]:
        return [params for op, params in self.calls if op == name]

    # -- the client interface -------------------------------------------------------------

    def __getattr__(self, method: str) -> Any:
        handler = getattr(self, f"_op_{method}", None)
        if handler is None:
            raise AttributeError(f"the simulator does not implement codedeploy.{method}")

        def call(**params: Any) -> dict[str, Any]:
            validate_request("codedeploy", method, params)
            self.calls.append((method, params))
            faults = self.faults.get(method)
            if faults:
                code = faults.pop(0)
                status = 503 if code in ("ServiceUnavailable", "InternalFailure") else 400
                raise error(code, f"injected {code}", method, status)
            for deployment in list(self.deployments.values()):
                self._advance(deployment)
            answer = handler(**params)
            check_response("codedeploy", method, answer)
            return answer

        return call

    def _op_get_deployment_group(self, **params: Any) -> dict[str, Any]:
        return group_answer(self.group, params)

    def _op_get_deployment_config(self, deploymentConfigName: str) -> dict[str, Any]:
        percent, every = ROUTING[deploymentConfigName]
        routing: dict[str, Any] = (
            {"type": "AllAtOnce"}
            if every == 0
            else {
                "type": "TimeBasedLinear",
                "timeBasedLinear": {"linearPercentage": percent, "linearInterval": every},
            }
        )
        return {
            "deploymentConfigInfo": {
                "deploymentConfigName": deploymentConfigName,
                "computePlatform": "ECS",
                "trafficRoutingConfig": routing,
            }
        }

    def _op_list_deployments(self, **params: Any) -> dict[str, Any]:
        wanted = set(params.get("includeOnlyStatuses") or [])
        return {
            "deployments": [
                d.id for d in self.deployments.values() if not wanted or d.status in wanted
            ]
        }

    def _op_create_deployment(self, **params: Any) -> dict[str, Any]:
        if any(d.status in ACTIVE for d in self.deployments.values()):
            raise error(
                "DeploymentLimitExceededException",
                "a deployment is already in progress",
                "CreateDeployment",
            )
        spec = json.loads(params["revision"]["appSpecContent"]["content"])
        properties = spec["Resources"][0]["TargetService"]["Properties"]
        hooks = {k: v for item in spec.get("Hooks", []) for k, v in item.items()}
        replacement = next(arn for arn in self.arns.values() if arn != self.live)
        deployment = Deployment(
            id=f"d-SIM{len(self.deployments):06d}",
            task_definition=properties["TaskDefinition"],
            created=self.time.now,
            hooks=hooks,
            original=self.live,
            replacement=replacement,
            description=params.get("description", ""),
            config_name=params.get("deploymentConfigName") or self.group.config_name,
        )
        self.deployments[deployment.id] = deployment
        self._advance(deployment)
        return {"deploymentId": deployment.id}

    def _op_get_deployment(self, deploymentId: str) -> dict[str, Any]:
        d = self._get(deploymentId, "GetDeployment")
        info: dict[str, Any] = {
            "applicationName": self.group.application,
            "deploymentGroupName": self.group.name,
            "deploymentConfigName": d.config_name,
            "deploymentId": d.id,
            "status": d.status,
            "createTime": d.created,
            "creator": d.creator,
            "description": d.description,
            "computePlatform": "ECS",
            "instanceTerminationWaitTimeStarted": d.termination_started,
        }
        if d.error:
            info["errorInformation"] = d.error
        rollback: dict[str, str] = {}
        if d.rollback_id:
            rollback["rollbackDeploymentId"] = d.rollback_id
        if d.triggered_by:
            rollback["rollbackTriggeringDeploymentId"] = d.triggered_by
        if rollback:
            info["rollbackInfo"] = rollback
        return {"deploymentInfo": info}

    def _op_list_deployment_targets(self, deploymentId: str) -> dict[str, Any]:
        self._get(deploymentId, "ListDeploymentTargets")
        return {"targetIds": [f"{self.group.cluster}:{self.group.service}"]}

    def _op_get_deployment_target(self, deploymentId: str, targetId: str) -> dict[str, Any]:
        d = self._get(deploymentId, "GetDeploymentTarget")
        name = {arn: n for n, arn in self.arns.items()}
        sets = [
            {
                "taskSetLabel": "Blue",
                "trafficWeight": 100.0 - d.weight,
                "targetGroup": {"name": name[d.original]},
            },
            {
                "taskSetLabel": "Green",
                "trafficWeight": d.weight,
                "targetGroup": {"name": name[d.replacement]},
            },
        ]
        return {
            "deploymentTarget": {
                "deploymentTargetType": "ECSTarget",
                "ecsTarget": {
                    "deploymentId": d.id,
                    "targetId": targetId,
                    "status": "InProgress" if d.status in ACTIVE else d.status,
                    "lifecycleEvents": [
                        {"lifecycleEventName": n, "status": s} for n, s in d.events.items()
                    ],
                    "taskSetsInfo": sets,
                },
            }
        }

    def _op_continue_deployment(self, **params: Any) -> dict[str, Any]:
        d = self._get(params["deploymentId"], "ContinueDeployment")
        if params.get("deploymentWaitType", "READY_WAIT") == "TERMINATION_WAIT":
            if not d.termination_started:
                raise error("DeploymentIsNotInReadyStateException", "not waiting", "Continue")
            self._succeed(d)
            return {}
        if d.status != "Ready":
            raise error(
                "DeploymentIsNotInReadyStateException", "the deployment is not Ready", "Continue"
            )
        d.continued = True
        d.status = "InProgress"
        self._next_stage(d)
        self._advance(d)
        return {}

    def _op_stop_deployment(self, **params: Any) -> dict[str, Any]:
        d = self._get(params["deploymentId"], "StopDeployment")
        if d.status in FINISHED:
            raise error(
                "DeploymentAlreadyCompletedException",
                f"deployment {d.id} is already {d.status}",
                "StopDeployment",
            )
        d.status = "Stopped"
        d.error = {"code": "MANUAL_STOP", "message": "stopped by a user"}
        if params.get("autoRollbackEnabled"):
            self._roll_back(d)
        return {"status": "Pending", "statusMessage": "stopping"}

    # -- the lifecycle --------------------------------------------------------------------

    def _get(self, deployment_id: str, operation: str) -> Deployment:
        if deployment_id not in self.deployments:
            raise error("DeploymentDoesNotExistException", deployment_id, operation)
        return self.deployments[deployment_id]

    def _stages(self, d: Deployment) -> list[str]:
        if d.creator == "codeDeployRollback":
            return ["Reroute"]
        return [*EVENTS[:5], "Ready", *EVENTS[5:], "TerminationWait"]

    def _next_stage(self, d: Deployment) -> None:
        d.stage += 1
        d.stage_started = self.time.now

    def _duration(self, d: Deployment, stage: str) -> timedelta | None:
        """How long ``stage`` lasts; None while it waits for someone (the Ready wait)."""
        if stage in HOOKS:
            return self.hook_time if stage in d.hooks else timedelta(0)
        if stage == "Install":
            return self.install
        if stage == "AllowTestTraffic":
            return self.test_traffic
        if stage == "AllowTraffic":
            percent, every = ROUTING[d.config_name]
            return timedelta(minutes=every * (math.ceil(100 / percent) - 1))
        if stage == "Ready":
            if self.group.ready_action != "STOP_DEPLOYMENT" or d.continued:
                return timedelta(0)
            return None
        if stage == "TerminationWait":
            return timedelta(minutes=self.group.termination_wait_minutes)
        return self.reroute

    def _advance(self, d: Deployment) -> None:
        """Play the deployment forward to the fake clock's now."""
        now = self.time.now
        while d.status not in FINISHED:
            stages = self._stages(d)
            if d.stage_started is None:
                d.stage_started = d.created
                d.status = "InProgress"
            stage = stages[d.stage]
            started = d.stage_started
            if stage in d.events and d.events[stage] == "Pending":
                d.events[stage] = "InProgress"
            if stage == "AllowTraffic":
                self._shift(d, now - started)
            duration = self._duration(d, stage)
            if duration is None:  # the Ready wait: held until continued or timed out
                d.status = "Ready"
                limit = started + timedelta(minutes=self.group.ready_wait_minutes)
                if now >= limit:
                    d.status = "Stopped"
                    d.error = {"code": "TIMEOUT", "message": "the Ready wait ran out"}
                    self._roll_back(d)
                return
            if stage == "TerminationWait" and not d.termination_started:
                d.termination_started = True
            if now < started + duration:
                return
            self._finish_stage(d, stage, started + duration)

    def _finish_stage(self, d: Deployment, stage: str, at: datetime) -> None:
        if stage in HOOKS:
            if stage not in d.hooks:
                d.events[stage] = "Skipped"
            elif self.hook_results.get(stage, "Succeeded") == "Failed":
                d.events[stage] = "Failed"
                d.status = "Failed"
                d.error = {"code": "HOOK_EXECUTION_FAILURE", "message": f"{stage} hook failed"}
                if self.group.auto_rollback:
                    self._roll_back(d)
                return
            else:
                d.events[stage] = "Succeeded"
        elif stage in d.events:
            d.events[stage] = "Succeeded"
        if stage == "Install":
            self.serving[d.replacement] = d.task_definition
            self.elbv2.register_targets(
                TargetGroupArn=d.replacement, Targets=[{"Id": "10.0.2.20", "Port": 8000}]
            )
        if stage == "AllowTestTraffic":
            self._listener(self.group.test_listener, {d.replacement: 100.0})
        if stage == "TerminationWait":
            self._succeed(d)
            return
        if stage == "Reroute":
            self._listener(self.group.prod_listener, {d.original: 100.0}, production=True)
            self._listener(self.group.test_listener, {d.original: 100.0})
            d.status = "Succeeded"
            return
        d.stage += 1
        d.stage_started = at

    def _shift(self, d: Deployment, elapsed: timedelta) -> None:
        percent, every = ROUTING[d.config_name]
        steps = 1 + (int(elapsed.total_seconds() // (every * 60)) if every else 0)
        weight = float(min(100, percent * steps))
        if weight != d.weight:
            d.weight = weight
            weights = {d.original: 100.0 - weight, d.replacement: weight}
            self._listener(self.group.prod_listener, weights, production=True)

    def _succeed(self, d: Deployment) -> None:
        d.status = "Succeeded"
        self.live = d.replacement
        self.ecs.update_service(
            cluster=self.group.cluster, service=self.group.service, taskDefinition=d.task_definition
        )

    def _roll_back(self, d: Deployment) -> None:
        """CodeDeploy's rollback deployment: production back on the original task set."""
        rollback = Deployment(
            id=f"d-SIM{len(self.deployments):06d}",
            task_definition=self.serving.get(d.original, "?"),
            created=self.time.now,
            hooks={},
            original=d.original,
            replacement=d.replacement,
            creator="codeDeployRollback",
            description=f"rollback of {d.id}",
            config_name=d.config_name,
            triggered_by=d.id,
        )
        rollback.events = {"AllowTraffic": "Pending"}
        d.rollback_id = rollback.id
        self.deployments[rollback.id] = rollback

    def _listener(self, arn: str, weights: dict[str, float], *, production: bool = False) -> None:
        if production:
            self.prod_weights = dict(weights)
        groups = [{"TargetGroupArn": tg, "Weight": int(w)} for tg, w in weights.items()]
        self.elbv2.modify_listener(
            ListenerArn=arn,
            DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}],
        )
