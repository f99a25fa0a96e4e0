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
from expandcontract.aws.taskdef import log_location, log_stream
from expandcontract.durations import Clock

MISSING_GRACE = timedelta(minutes=2)
LOG_LINES = 30


def _why_stopped(task: dict[str, Any]) -> str:
    """``stopCode``, ``stoppedReason`` and each container's exit code and reason."""
    parts = []
    if task.get("stopCode") or task.get("stoppedReason"):
        parts.append(f"{task.get('stopCode', '')}: {task.get('stoppedReason', '')}".strip(": "))
    for item in task.get("containers") or []:
        text = f"container {item.get('name')} exit code {item.get('exitCode', 'none')}"
        if item.get("reason"):
            text += f" ({item['reason']})"
        parts.append(text)
    return "; ".join(parts) or "no reason given"


def _log_tail(aws: Aws, definition: dict[str, Any], container: str, task_arn: str) -> list[str]:
    """The container's last log lines, or nothing when they cannot be read."""
    where = log_stream(definition, container, task_arn)
    if where is None:
        return []
    try:
        answer = aws.logs.get_log_events(
            logGroupName=where[0], logStreamName=where[1], limit=LOG_LINES, startFromHead=False
        )
    except AwsError:
        return []  # no stream (the task never started) or no permission: the ARN still helps
    return [str(event.get("message", "")).rstrip() for event in answer.get("events", [])]


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
    platform_version: str | None = None,
) -> TaskResult:
    """Run ``command`` in ``container`` as a Fargate task, wait, and raise on a non-zero exit.

    On failure the message carries the task's ``stopCode``/``stoppedReason``, every
    container's exit code and reason, and the last lines of the container's CloudWatch Logs.
    """
    params: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": task_definition,
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": "expandcontract",
        "networkConfiguration": network,
        "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
    }
    if platform_version:
        params["platformVersion"] = platform_version
    started = aws.ecs.run_task(**params)
    failures = started.get("failures") or []
    if failures or not started.get("tasks"):
        detail = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in failures)
        raise AwsError(f"ECS could not start the migration task: {detail or 'no task started'}")
    task_arn = started["tasks"][0]["taskArn"]
    logs = log_location(definition, container, task_arn)
    echo(f"  task {task_arn} started: {' '.join(command)}" + (f" ({logs})" if logs else ""))
    deadline = clock() + timeout
    missing_since = None
    while True:
        answer = aws.ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
        tasks = answer.get("tasks") or []
        if not tasks:
            # Right after RunTask, DescribeTasks may answer MISSING for a while (eventual
            # consistency); only a task missing for long is an error.
            reason = "; ".join(str(f.get("reason")) for f in answer.get("failures") or [])
            missing_since = missing_since or clock()
            if clock() - missing_since > MISSING_GRACE:
                raise AwsError(
                    f"migration task {task_arn} not found by ECS for {MISSING_GRACE} "
                    f"({reason or 'MISSING'}).{' Logs: ' + logs if logs else ''}"
                )
            sleep(poll_interval)
            continue
        task = tasks[0]
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
    if exit_code is None or exit_code != 0:
        detail = _why_stopped(task)
        where = f"\nLogs: {logs}" if logs else ""
        tail = _log_tail(aws, definition, container, task_arn)
        if tail:
            where += "\nlast log lines:\n" + "\n".join(f"  | {line}" for line in tail)
        headline = (
            f"migration task {task_arn} stopped without running"
            if exit_code is None
            else f"migration task {task_arn} exited with status {exit_code} ({' '.join(command)})"
        )
        raise MigrationTaskFailed(
            f"{headline}: {detail}{where}",
            exit_code=None if exit_code is None else int(exit_code),
            log_stream=logs,
        )
    echo(f"  task {task_arn} exited 0")
    return TaskResult(task_arn, 0, logs)
