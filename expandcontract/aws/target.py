"""Where a release goes: cluster, service, CodeDeploy group, listeners, database.

Each setting comes from a command-line flag, else an ``EXPANDCONTRACT_<NAME>`` environment
variable, else a ``terraform output -json`` file (``--from-terraform``), in that order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from expandcontract.aws.errors import AwsConfigurationError
from expandcontract.aws.terraform import read_outputs

LIST_FIELDS = {"subnets", "security_groups", "alarm_names"}


def _meta(terraform: str | None, flag: str) -> dict[str, str | None]:
    return {"terraform": terraform, "flag": flag}


@dataclass(frozen=True)
class ReleaseTarget:
    """The AWS resources one release touches. ``None`` means "not configured"."""

    region: str | None = field(default=None, metadata=_meta("aws_region", "--region"))
    cluster: str | None = field(default=None, metadata=_meta("cluster_name", "--cluster"))
    service: str | None = field(default=None, metadata=_meta("service_name", "--service"))
    app_task_definition: str | None = field(
        default=None, metadata=_meta("app_task_definition_arn", "--app-task-definition")
    )
    migration_task_definition: str | None = field(
        default=None,
        metadata=_meta("migration_task_definition_arn", "--migration-task-definition"),
    )
    migration_task_family: str | None = field(
        default=None, metadata=_meta("migration_task_family", "--migration-task-family")
    )
    container_name: str | None = field(
        default=None, metadata=_meta("container_name", "--container-name")
    )
    migration_container_name: str | None = field(
        default=None, metadata=_meta("migration_container_name", "--migration-container-name")
    )
    container_port: int | None = field(
        default=None, metadata=_meta("container_port", "--container-port")
    )
    codedeploy_app: str | None = field(
        default=None, metadata=_meta("codedeploy_app_name", "--codedeploy-app")
    )
    codedeploy_group: str | None = field(
        default=None, metadata=_meta("codedeploy_group_name", "--codedeploy-group")
    )
    deployment_config_name: str | None = field(
        default=None, metadata=_meta("deployment_config_name", "--deployment-config-name")
    )
    prod_listener_arn: str | None = field(
        default=None, metadata=_meta("prod_listener_arn", "--prod-listener-arn")
    )
    test_listener_arn: str | None = field(
        default=None, metadata=_meta("test_listener_arn", "--test-listener-arn")
    )
    blue_target_group_arn: str | None = field(
        default=None, metadata=_meta("blue_target_group_arn", "--blue-target-group-arn")
    )
    green_target_group_arn: str | None = field(
        default=None, metadata=_meta("green_target_group_arn", "--green-target-group-arn")
    )
    db_instance_identifier: str | None = field(
        default=None, metadata=_meta("db_instance_identifier", "--db-instance")
    )
    db_cluster_identifier: str | None = field(
        default=None, metadata=_meta("db_cluster_identifier", "--db-cluster")
    )
    db_secret_arn: str | None = field(
        default=None, metadata=_meta("db_master_secret_arn", "--db-secret-arn")
    )
    db_endpoint: str | None = field(default=None, metadata=_meta("db_endpoint", "--db-endpoint"))
    subnets: tuple[str, ...] = field(default=(), metadata=_meta("private_subnet_ids", "--subnet"))
    security_groups: tuple[str, ...] = field(
        default=(), metadata=_meta("task_security_group_id", "--security-group")
    )
    alarm_names: tuple[str, ...] = field(
        default=(), metadata=_meta("rollback_alarm_names", "--alarm")
    )
    smoke_test_function: str | None = field(
        default=None, metadata=_meta("smoke_test_function_name", "--smoke-test-function")
    )

    @property
    def target_groups(self) -> tuple[str, str]:
        self.require("blue_target_group_arn", "green_target_group_arn")
        return (str(self.blue_target_group_arn), str(self.green_target_group_arn))

    def require(self, *names: str) -> None:
        """Raise one clear error naming every missing setting and where it can come from."""
        missing = [name for name in names if getattr(self, name) in (None, (), "")]
        if not missing:
            return
        lines = []
        for name in missing:
            meta = _FIELDS[name].metadata
            lines.append(
                f"  - {name}: {meta['flag']}, ${env_name(name)}"
                + (f", or terraform output {meta['terraform']}" if meta["terraform"] else "")
            )
        raise AwsConfigurationError("missing settings:\n" + "\n".join(lines))


_FIELDS = {f.name: f for f in fields(ReleaseTarget)}


def env_name(name: str) -> str:
    return f"EXPANDCONTRACT_{name.upper()}"


def _coerce(name: str, value: Any) -> Any:
    if name in LIST_FIELDS:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return tuple(str(part) for part in value)
    if name == "container_port":
        try:
            return int(value)
        except (TypeError, ValueError) as err:
            raise AwsConfigurationError(f"container_port must be a number, not {value!r}") from err
    return str(value)


def resolve_target(
    flags: Mapping[str, Any] | None = None,
    *,
    terraform: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ReleaseTarget:
    """Merge flags over ``EXPANDCONTRACT_*`` variables over terraform outputs."""
    flags = flags or {}
    environ = os.environ if environ is None else environ
    outputs = read_outputs(terraform) if terraform else {}
    values: dict[str, Any] = {}
    for name, spec in _FIELDS.items():
        candidates = [
            flags.get(name),
            environ.get(env_name(name)),
            outputs.get(spec.metadata["terraform"]) if spec.metadata["terraform"] else None,
        ]
        if name == "region":
            candidates[1:1] = [environ.get("AWS_REGION"), environ.get("AWS_DEFAULT_REGION")]
        for value in candidates:
            if value not in (None, "", (), []):
                values[name] = _coerce(name, value)
                break
    return ReleaseTarget(**values)
