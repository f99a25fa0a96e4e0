"""Cloning an ECS task definition with a new image and ``APP_VERSION``."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError

# Fields describe_task_definition returns that register_task_definition rejects.
READ_ONLY_FIELDS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
    }
)


@dataclass(frozen=True)
class RegisteredTaskDefinition:
    arn: str
    container: str
    definition: dict[str, Any]


def pick_container(definition: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The container to change: ``name``, or the only one there is."""
    containers = definition.get("containerDefinitions") or []
    if name:
        for container in containers:
            if container.get("name") == name:
                return container
        found = ", ".join(c.get("name", "?") for c in containers) or "none"
        raise AwsConfigurationError(
            f"task definition {definition.get('family')} has no container {name!r} (has: {found})"
        )
    if len(containers) != 1:
        raise AwsConfigurationError(
            f"task definition {definition.get('family')} has {len(containers)} containers: "
            "say which one runs the app with --container-name"
        )
    return containers[0]


def cloned_definition(
    definition: dict[str, Any],
    *,
    image: str,
    app_version: str | None,
    container: str | None = None,
) -> dict[str, Any]:
    """Register-ready copy of ``definition`` with ``image`` and ``APP_VERSION`` in one container."""
    clone = {k: copy.deepcopy(v) for k, v in definition.items() if k not in READ_ONLY_FIELDS}
    target = pick_container(clone, container)
    target["image"] = image
    if app_version is not None:
        environment = [e for e in target.get("environment", []) if e.get("name") != "APP_VERSION"]
        environment.append({"name": "APP_VERSION", "value": app_version})
        target["environment"] = environment
    return clone


def clone_task_definition(
    aws: Aws,
    source: str,
    *,
    image: str,
    app_version: str | None,
    container: str | None = None,
) -> RegisteredTaskDefinition:
    """Register a copy of ``source`` (family, family:revision or ARN) with a new image; keep tags."""
    described = aws.ecs.describe_task_definition(taskDefinition=source, include=["TAGS"])
    definition = described["taskDefinition"]
    clone = cloned_definition(definition, image=image, app_version=app_version, container=container)
    params = dict(clone)
    if described.get("tags"):
        params["tags"] = described["tags"]
    registered = aws.ecs.register_task_definition(**params)["taskDefinition"]
    return RegisteredTaskDefinition(
        arn=registered["taskDefinitionArn"],
        container=pick_container(clone, container)["name"],
        definition=clone,
    )


def log_stream(definition: dict[str, Any], container: str, task_arn: str) -> tuple[str, str] | None:
    """``(group, stream)`` of an awslogs container of a task, or None."""
    target = pick_container(definition, container)
    log = target.get("logConfiguration") or {}
    options = log.get("options") or {}
    if log.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    prefix = options.get("awslogs-stream-prefix")
    task_id = task_arn.rsplit("/", 1)[-1]
    return str(options["awslogs-group"]), f"{prefix}/{container}/{task_id}" if prefix else task_id


def log_location(definition: dict[str, Any], container: str, task_arn: str) -> str | None:
    """``group/stream`` of an awslogs container of a task, for people to look at."""
    target = pick_container(definition, container)
    log = target.get("logConfiguration") or {}
    if log.get("logDriver") != "awslogs":
        return None
    options = log.get("options") or {}
    group = options.get("awslogs-group")
    prefix = options.get("awslogs-stream-prefix")
    task_id = task_arn.rsplit("/", 1)[-1]
    stream = f"{prefix}/{container}/{task_id}" if prefix else task_id
    return f"log group {group}, stream {stream}" if group else f"stream {stream}"
