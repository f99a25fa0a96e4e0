"""CodeDeploy blue/green deployments of an ECS service from AppSpec content."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsError, DeploymentInProgress

# Every status in which a deployment still owns the service and its listeners.
ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
# Green serves the test listener and CodeDeploy waits (deployment_ready_option) to be continued.
READY = "Ready"
# Answers of continue_deployment meaning someone (another poll, an operator) already continued it.
ALREADY_CONTINUED = frozenset(
    {"DeploymentIsNotInReadyStateException", "DeploymentAlreadyCompletedException"}
)
# The description of the deployments `expandcontract rollback` creates (never undone by us).
ROLLBACK_DESCRIPTION = "expandcontract rollback"
HOOK_EVENTS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)


def service_properties(service: Mapping[str, Any]) -> dict[str, Any]:
    """The AppSpec properties that keep the service's own placement (``describe_services``).

    Without them CodeDeploy starts the replacement task set with its defaults, and a change
    made to the service (subnets, platform version, capacity providers) is silently lost.
    """
    properties: dict[str, Any] = {}
    awsvpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if awsvpc:
        network: dict[str, Any] = {"Subnets": list(awsvpc.get("subnets", []))}
        if awsvpc.get("securityGroups"):
            network["SecurityGroups"] = list(awsvpc["securityGroups"])
        if awsvpc.get("assignPublicIp"):
            network["AssignPublicIp"] = awsvpc["assignPublicIp"]
        properties["NetworkConfiguration"] = {"AwsvpcConfiguration": network}
    if service.get("platformVersion"):
        properties["PlatformVersion"] = service["platformVersion"]
    strategy = service.get("capacityProviderStrategy")
    if strategy:
        properties["CapacityProviderStrategy"] = [
            {
                "CapacityProvider": item["capacityProvider"],
                "Base": int(item.get("base", 0)),
                "Weight": int(item.get("weight", 0)),
            }
            for item in strategy
        ]
    return properties


def appspec_content(
    task_definition_arn: str,
    container_name: str,
    container_port: int,
    hooks: Mapping[str, str] | None = None,
    service: Mapping[str, Any] | None = None,
) -> str:
    """The AppSpec (JSON) of an ECS blue/green deployment; ``hooks`` maps event → Lambda.

    ``service`` (a ``describe_services`` entry) adds its network configuration, platform
    version and capacity provider strategy.
    """
    spec: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition_arn,
                        "LoadBalancerInfo": {
                            "ContainerName": container_name,
                            "ContainerPort": int(container_port),
                        },
                        **service_properties(service or {}),
                    },
                }
            }
        ],
    }
    if hooks:
        spec["Hooks"] = [{event: function} for event, function in hooks.items()]
    return json.dumps(spec, indent=2)


def active_deployments(aws: Aws, application: str, group: str) -> list[str]:
    """Ids of the group's deployments that have not finished."""
    ids: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "applicationName": application,
            "deploymentGroupName": group,
            "includeOnlyStatuses": ACTIVE_STATUSES,
        }
        if token:
            params["nextToken"] = token
        answer = aws.codedeploy.list_deployments(**params)
        ids += answer.get("deployments", [])
        token = answer.get("nextToken")
        if not token:
            return ids


def refuse_if_active(aws: Aws, application: str, group: str) -> None:
    active = active_deployments(aws, application, group)
    if active:
        raise DeploymentInProgress(
            f"deployment group {group} already has a deployment in progress "
            f"({', '.join(active)}): wait for it, or stop it with `expandcontract rollback`"
        )


def create_deployment(
    aws: Aws,
    *,
    application: str,
    group: str,
    appspec: str,
    config_name: str | None = None,
    description: str = "",
) -> str:
    """Start a deployment (refused while another one of the group is active); its id."""
    refuse_if_active(aws, application, group)
    params: dict[str, Any] = {
        "applicationName": application,
        "deploymentGroupName": group,
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec},
        },
        "description": description[:100],
    }
    if config_name:
        params["deploymentConfigName"] = config_name
    return str(aws.codedeploy.create_deployment(**params)["deploymentId"])


def stop_with_rollback(aws: Aws, deployment_id: str) -> str:
    """Stop a deployment and let CodeDeploy route traffic back to the original task set."""
    answer = aws.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    return str(answer.get("status", "Pending"))


def is_rollback(info: Mapping[str, Any]) -> bool:
    """Is this deployment (``deploymentInfo``) itself a way back: CodeDeploy's or ours?"""
    rollback_info = info.get("rollbackInfo") or {}
    return (
        info.get("creator") == "codeDeployRollback"
        or bool(rollback_info.get("rollbackTriggeringDeploymentId"))
        or str(info.get("description", "")).startswith(ROLLBACK_DESCRIPTION)
    )


def continue_deployment(aws: Aws, deployment_id: str) -> bool:
    """Let a ``Ready`` deployment shift production traffic; False if it had already moved on."""
    try:
        aws.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="READY_WAIT"
        )
    except AwsError as err:
        if err.code in ALREADY_CONTINUED:
            return False
        raise
    return True


def deployment_progress(
    aws: Aws, deployment_id: str
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Lifecycle events and the traffic weight of each task set (``Blue``/``Green`` label)."""
    targets = aws.codedeploy.list_deployment_targets(deploymentId=deployment_id)
    events: list[dict[str, Any]] = []
    weights: dict[str, float] = {}
    for target_id in targets.get("targetIds", []):
        target = aws.codedeploy.get_deployment_target(
            deploymentId=deployment_id, targetId=target_id
        )["deploymentTarget"]
        ecs = target.get("ecsTarget") or {}
        events += ecs.get("lifecycleEvents", [])
        for task_set in ecs.get("taskSetsInfo", []):
            label = task_set.get("taskSetLabel") or task_set.get("identifer", "?")
            weights[label] = float(task_set.get("trafficWeight", 0.0))
    return events, weights
