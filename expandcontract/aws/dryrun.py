"""Placeholder answers for a dry run, just enough for a command to carry on to its next call.

Values in angle brackets mark what a real run would learn from AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def placeholder_response(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    hints: Mapping[str, Any],
    history: Sequence[str] = (),
) -> dict[str, Any]:
    """A minimal, well-formed answer to ``service.operation(**params)``.

    ``history`` holds the calls made so far, so a deployment can be ``Ready`` until the dry
    run has shown the ``continue_deployment`` a real run would make.
    """
    containers = [str(name) for name in dict.fromkeys(hints.get("containers", ())) if name]
    by_family: Mapping[str, str] = hints.get("container_by_family", {})
    key = f"{service}.{operation}"
    if key == "ecs.describe_services":
        return {
            "services": [
                {
                    "serviceName": name,
                    "taskDefinition": "<current task definition>",
                    "networkConfiguration": {
                        "awsvpcConfiguration": {
                            "subnets": ["<service subnets>"],
                            "securityGroups": ["<service security groups>"],
                        }
                    },
                }
                for name in params.get("services", [])
            ]
        }
    if key == "ecs.describe_task_definition":
        family = str(params.get("taskDefinition", "<family>"))
        names = [by_family[family]] if by_family.get(family) else containers[:1]
        return {
            "taskDefinition": {
                "family": family.strip("<>"),
                "containerDefinitions": [
                    {"name": name, "image": "<current image>"} for name in names
                ],
            }
        }
    if key == "ecs.register_task_definition":
        return {"taskDefinition": {"taskDefinitionArn": f"<{params.get('family')}:new revision>"}}
    if key == "ecs.run_task":
        return {"tasks": [{"taskArn": "<migration task>"}], "failures": []}
    if key == "ecs.describe_tasks":
        stopped = [{"name": name, "exitCode": 0} for name in containers]
        return {
            "tasks": [
                {"taskArn": "<migration task>", "lastStatus": "STOPPED", "containers": stopped}
            ]
        }
    if key == "cloudwatch.describe_alarms":
        names = params.get("AlarmNames") or []
        return {"MetricAlarms": [{"AlarmName": name, "StateValue": "OK"} for name in names]}
    if key == "codedeploy.create_deployment":
        return {"deploymentId": "<deployment id>"}
    if key == "codedeploy.get_deployment":
        continued = any(call.startswith("codedeploy.continue_deployment(") for call in history)
        return {"deploymentInfo": {"status": "Succeeded" if continued else "Ready"}}
    if key == "elbv2.describe_listeners":
        listener = (params.get("ListenerArns") or [None])[0]
        by_listener: Mapping[str, str] = hints.get("listener_target_groups", {})
        group = by_listener.get(listener) or hints.get("live_target_group", "<live target group>")
        return {"Listeners": [{"DefaultActions": [{"Type": "forward", "TargetGroupArn": group}]}]}
    if key == "elbv2.describe_target_health":
        return {
            "TargetHealthDescriptions": [
                {"Target": {"Id": "<target>"}, "TargetHealth": {"State": "healthy"}}
            ]
        }
    if key == "rds.create_db_snapshot":
        return {"DBSnapshot": {"DBSnapshotArn": "<snapshot arn>"}}
    if key == "rds.create_db_cluster_snapshot":
        return {"DBClusterSnapshot": {"DBClusterSnapshotArn": "<snapshot arn>"}}
    if key == "rds.describe_db_snapshots":
        return {"DBSnapshots": [{"Status": "available"}]}
    if key == "rds.describe_db_cluster_snapshots":
        return {"DBClusterSnapshots": [{"Status": "available"}]}
    if key == "rds.describe_db_instances":
        return {"DBInstances": [{}]}
    if key == "rds.restore_db_instance_from_db_snapshot":
        return {"DBInstance": {}}
    return {}
