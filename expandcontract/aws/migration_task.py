"""Running a migration phase as a one-off ECS task and propagating its exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.errors import (
    AwsConfigurationError,
    AwsError,
    AwsTimeout,
    MigrationTaskFailed,
)
from expandcontract.aws.taskdef import log_location
from expandcontract.ledger import Clock


@dataclass(frozen=True)
class TaskResult:
    task_arn: str
    exit_code: int
    logs: str | None


def network_configuration(
    service: dict[str, Any], subnets: Sequence[str], groups: Sequence[str]
) -> dict[str, Any]:
    """The service's own awsvpc configuration, else one built from the configured subnets."""
    config = service.get("networkConfiguration")
    if config and config.get("awsvpcConfiguration", {}).get("subnets"):
        return dict(config)
    if not subnets or not groups:
        raise AwsConfigurationError(
            "cannot tell which network the migration task runs in: the service has no awsvpc "
            "configuration; pass --subnet and --security-group (or --from-terraform)"
        )
    return {
        "awsvpcConfiguration": {
            "subnets": list(subnets),
            "securityGroups": list(groups),
            "assignPublicIp": "DISABLED",
        }
    }


def run_one_off_task(
    aws: Aws,
    *,
    cluster: str,
    task_definition: str,
    definition: dict[str, Any],
    container: str,
    command: Sequence[str],
    network: dict[str, Any],
    clock: Clock,
    sleep: Sleep,
    echo: Echo,
    timeout: timedelta = timedelta(hours=1),
    poll_interval: float = 10.0,
) -> TaskResult:
    """Run ``command`` in ``container`` as a Fargate task, wait, and raise on a non-zero exit."""
    started = aws.ecs.run_task(
        cluster=cluster,
        taskDefinition=task_definition,
        launchType="FARGATE",
        count=1,
        startedBy="expandcontract",
        networkConfiguration=network,
        overrides={"containerOverrides": [{"name": container, "command": list(command)}]},
    )
    failures = started.get("failures") or []
    if failures or not started.get("tasks"):
        detail = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in failures)
        raise AwsError(f"ECS could not start the migration task: {detail or 'no task started'}")
    task_arn = started["tasks"][0]["taskArn"]
    logs = log_location(definition, container, task_arn)
    echo(f"  task {task_arn} started: {' '.join(command)}" + (f" ({logs})" if logs else ""))
    deadline = clock() + timeout
    while True:
        task = aws.ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task.get("lastStatus") == "STOPPED":
            break
        if clock() >= deadline:
            aws.ecs.stop_task(
                cluster=cluster, task=task_arn, reason="expandcontract: migration timed out"
            )
            raise AwsTimeout(
                f"migration task {task_arn} still {task.get('lastStatus')} after {timeout}; "
                f"stopped it. Logs: {logs or 'see the task in the ECS console'}"
            )
        sleep(poll_interval)
    exit_code = next(
        (c.get("exitCode") for c in task.get("containers", []) if c.get("name") == container),
        None,
    )
    where = f" Logs: {logs}." if logs else ""
    if exit_code is None:
        reason = task.get("stoppedReason") or "no exit code"
        raise MigrationTaskFailed(
            f"migration task {task_arn} stopped without running: {reason}.{where}",
            exit_code=None,
            log_stream=logs,
        )
    if exit_code != 0:
        raise MigrationTaskFailed(
            f"migration task {task_arn} exited with status {exit_code} "
            f"({' '.join(command)}).{where}",
            exit_code=int(exit_code),
            log_stream=logs,
        )
    echo(f"  task {task_arn} exited 0")
    return TaskResult(task_arn, 0, logs)
