"""``ecs-release --preflight``: everything a release needs, checked before its first side effect.

Every check runs (one failure does not hide the next), each becomes a row of the printed
table, and any failure raises :class:`PreflightFailed` before a migration runs or a task
definition is registered. ``ecs-release`` always runs it first; ``--preflight`` stops after it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from expandcontract.aws.budget import Budget, budget_for, deployment_group
from expandcontract.aws.clients import Aws, Echo
from expandcontract.aws.codedeploy import active_deployments
from expandcontract.aws.errors import AwsError, CredentialsExpired, PreflightFailed
from expandcontract.aws.metrics import describe_alarms
from expandcontract.aws.records import Records
from expandcontract.aws.target import ReleaseTarget
from expandcontract.aws.traffic import forwarded_target_group, roles
from expandcontract.ledger import Event

ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)
OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    result: str  # ok | warn | FAIL
    detail: str


@dataclass
class Preflight:
    """What the checks found; later steps use it instead of asking AWS again."""

    checks: list[Check] = field(default_factory=list)
    service: dict[str, Any] = field(default_factory=dict)
    group: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None
    app_source: str | None = None
    migration_source: str | None = None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.result == FAIL]

    def run(self, name: str, check: Callable[[], tuple[str, str]]) -> None:
        try:
            result, detail = check()
        except CredentialsExpired:
            raise
        except Exception as err:  # noqa: BLE001 - every failure is a row, not a traceback
            result, detail = FAIL, str(err).splitlines()[0][:300]
        self.checks.append(Check(name, result, detail))

    def table(self) -> str:
        """The checks as a rich table (plain text, so CI logs show it as it is)."""
        from rich.console import Console
        from rich.table import Table

        table = Table(title="ecs-release preflight", title_justify="left")
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for check in self.checks:
            table.add_row(check.name, check.result, check.detail)
        buffer = io.StringIO()
        Console(file=buffer, width=120, no_color=True, force_terminal=False).print(table)
        return buffer.getvalue().rstrip()


def preflight(
    aws: Aws,
    target: ReleaseTarget,
    records: Records,
    *,
    image: str,
    echo: Echo,
    hook_count: int = 0,
    config_name: str | None = None,
) -> Preflight:
    """Run every check, print the table, raise :class:`PreflightFailed` if one failed."""
    found = Preflight()
    cluster = str(target.cluster)
    found.run("cluster", lambda: _cluster(aws, cluster))
    found.run("service", lambda: _service(aws, target, found))
    found.run("deployment group", lambda: _group(aws, target, found))
    found.run("listeners", lambda: _listeners(aws, target))
    found.run("alarms", lambda: _alarms(aws, target, found))
    found.run("no deployment running", lambda: _idle(aws, target))
    found.run("app task definition", lambda: _app_source(aws, target, found))
    found.run("migration task definition", lambda: _migration_source(aws, target, found))
    found.run("roles", lambda: _roles(aws, found))
    found.run("image", lambda: _image(aws, image))
    found.run("ledger", lambda: _ledger(records, aws.dry_run))
    found.run("wait budget", lambda: _budget(aws, found, hook_count, config_name))
    echo(found.table())
    if found.failed:
        names = ", ".join(c.name for c in found.failed)
        raise PreflightFailed(
            f"preflight failed ({names}): nothing was changed", list(found.checks)
        )
    return found


def _cluster(aws: Aws, cluster: str) -> tuple[str, str]:
    answer = aws.ecs.describe_clusters(clusters=[cluster])
    clusters = answer.get("clusters") or []
    if not clusters or clusters[0].get("status") != "ACTIVE":
        return FAIL, f"ECS cluster {cluster} not found (or not ACTIVE)"
    return OK, f"{cluster} ACTIVE"


def _service(aws: Aws, target: ReleaseTarget, found: Preflight) -> tuple[str, str]:
    answer = aws.ecs.describe_services(cluster=target.cluster, services=[target.service])
    services = [s for s in answer.get("services") or [] if s.get("status") == "ACTIVE"]
    if not services:
        return FAIL, f"ECS service {target.service} not found in cluster {target.cluster}"
    service = found.service = dict(services[0])
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    if controller != "CODE_DEPLOY":
        return FAIL, f"deployment controller is {controller}, not CODE_DEPLOY"
    balancers = service.get("loadBalancers") or []
    ours = set(target.target_groups)
    if not any(lb.get("targetGroupArn") in ours for lb in balancers):
        return FAIL, "the service's load balancer is neither configured target group"
    for lb in balancers:
        if lb.get("containerName") != target.container_name or int(
            lb.get("containerPort") or 0
        ) != int(target.container_port or 0):
            return FAIL, (
                f"the service routes to {lb.get('containerName')}:{lb.get('containerPort')}, "
                f"not {target.container_name}:{target.container_port}"
            )
    return OK, f"{target.service}: CODE_DEPLOY, {service.get('taskDefinition')}"


def _names(aws: Aws, arns: tuple[str, str]) -> dict[str, str]:
    answer = aws.elbv2.describe_target_groups(TargetGroupArns=list(arns))
    return {g["TargetGroupName"]: g["TargetGroupArn"] for g in answer.get("TargetGroups", [])}


def _group(aws: Aws, target: ReleaseTarget, found: Preflight) -> tuple[str, str]:
    app, name = str(target.codedeploy_app), str(target.codedeploy_group)
    group = found.group = deployment_group(aws, app, name)
    problems = []
    services = group.get("ecsServices") or []
    if {"serviceName": target.service, "clusterName": target.cluster} not in [
        {"serviceName": s.get("serviceName"), "clusterName": s.get("clusterName")} for s in services
    ]:
        problems.append(
            f"deploys {services or 'no service'}, not {target.cluster}/{target.service}"
        )
    style = group.get("deploymentStyle") or {}
    if style.get("deploymentType") != "BLUE_GREEN":
        problems.append("is not a BLUE_GREEN deployment group")
    pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
    if not pairs:
        problems.append("has no target group pair")
    else:
        pair = pairs[0]
        names = {g.get("name") for g in pair.get("targetGroups", [])}
        configured = _names(aws, target.target_groups)
        if names != set(configured):
            problems.append(f"target groups {sorted(names)} != configured {sorted(configured)}")
        prod = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        test = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        if prod != [target.prod_listener_arn]:
            problems.append(f"production listener {prod} != configured {target.prod_listener_arn}")
        if target.test_listener_arn and test != [target.test_listener_arn]:
            problems.append(f"test listener {test} != configured {target.test_listener_arn}")
    if problems:
        return FAIL, f"{app}/{name} " + "; ".join(problems)
    return OK, f"{app}/{name}: service, target groups and listeners match"


def _listeners(aws: Aws, target: ReleaseTarget) -> tuple[str, str]:
    live = roles(aws, str(target.prod_listener_arn), target.target_groups)
    detail = f"production → {live.live.rsplit('/', 2)[-2]}"
    if target.test_listener_arn:
        test = forwarded_target_group(aws, target.test_listener_arn)
        if test not in target.target_groups:
            return FAIL, f"test listener forwards to {test}, neither configured target group"
        detail += f", test → {test.rsplit('/', 2)[-2]}"
    return OK, detail


def _alarms(aws: Aws, target: ReleaseTarget, found: Preflight) -> tuple[str, str]:
    config = found.group.get("alarmConfiguration") or {}
    names = list(
        dict.fromkeys([*target.alarm_names, *(a["name"] for a in config.get("alarms", []))])
    )
    if not names:
        return WARN, "no rollback alarms configured: only the metric comparison guards green"
    alarms = describe_alarms(aws, names)  # raises on a missing name
    firing = [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
    if firing:
        return FAIL, f"in ALARM now: {', '.join(firing)}"
    composite = sum(1 for a in alarms if a.get("_composite"))
    return OK, f"{len(names)} exist ({composite} composite), none in ALARM"


def _idle(aws: Aws, target: ReleaseTarget) -> tuple[str, str]:
    active = active_deployments(aws, str(target.codedeploy_app), str(target.codedeploy_group))
    if active:
        return (
            FAIL,
            f"deployment {', '.join(active)} in progress: wait, or `expandcontract rollback`",
        )
    return OK, "none"


def _describe(aws: Aws, source: str) -> dict[str, Any]:
    return dict(aws.ecs.describe_task_definition(taskDefinition=source)["taskDefinition"])


def _app_source(aws: Aws, target: ReleaseTarget, found: Preflight) -> tuple[str, str]:
    if target.app_task_definition:
        definition = _describe(aws, target.app_task_definition)
        found.app_source = str(definition["taskDefinitionArn"])
        return OK, f"{found.app_source} (app_task_definition: the Terraform-managed revision)"
    live = found.service.get("taskDefinition")
    if not live:
        return FAIL, "no source: set app_task_definition (terraform output app_task_definition_arn)"
    found.app_source = str(live)
    return WARN, (
        f"no app_task_definition configured: cloning the service's LIVE revision {live}; "
        "Terraform edits to the task definition will not reach production"
    )


def _migration_source(aws: Aws, target: ReleaseTarget, found: Preflight) -> tuple[str, str]:
    source = target.migration_task_definition or target.migration_task_family
    if not source:
        found.migration_source = found.app_source
        return WARN, "no migration task definition configured: the app's is used"
    definition = _describe(aws, source)
    found.migration_source = str(definition["taskDefinitionArn"])
    how = "migration_task_definition" if target.migration_task_definition else "family's latest"
    return OK, f"{found.migration_source} ({how})"


def _roles(aws: Aws, found: Preflight) -> tuple[str, str]:
    arns = [found.group.get("serviceRoleArn")]
    for source in dict.fromkeys([found.app_source, found.migration_source]):
        if source:
            definition = _describe(aws, source)
            arns += [definition.get("executionRoleArn"), definition.get("taskRoleArn")]
    names = list(dict.fromkeys(str(a).rsplit("/", 1)[-1] for a in arns if a))
    missing = []
    for name in names:
        try:
            aws.iam.get_role(RoleName=name)
        except AwsError as err:
            if err.code == "NoSuchEntity":
                missing.append(name)
            elif err.code in ("AccessDenied", "AccessDeniedException"):
                return WARN, "iam:GetRole not allowed: roles not checked"
            else:
                raise
    if missing:
        return FAIL, f"roles do not exist: {', '.join(missing)}"
    return OK, f"{len(names)} exist: {', '.join(names)}" if names else "none referenced"


def _image(aws: Aws, image: str) -> tuple[str, str]:
    match = ECR_IMAGE.match(image)
    if not match:
        return WARN, f"{image} is not in ECR: not checked"
    image_id = (
        {"imageDigest": match["digest"]}
        if match["digest"]
        else {"imageTag": match["tag"] or "latest"}
    )
    try:
        aws.ecr.describe_images(
            registryId=match["registry"],
            repositoryName=match["repository"],
            imageIds=[image_id],
        )
    except AwsError as err:
        if err.code in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return FAIL, f"{image} not found in ECR ({err.code})"
        raise
    return OK, f"{image} present in ECR"


def _ledger(records: Records, dry_run: bool) -> tuple[str, str]:
    if dry_run:
        return WARN, "not checked in a dry run"
    latest = records.read(lambda ledger: ledger.latest(Event.RELEASE_DEPLOYED))
    return OK, "reachable" + (f"; last release {latest.release}" if latest else "; no release yet")


def _budget(
    aws: Aws, found: Preflight, hook_count: int, config_name: str | None
) -> tuple[str, str]:
    if not found.group:
        return FAIL, "needs the deployment group"
    found.budget = budget_for(aws, found.group, config_name=config_name, hook_count=hook_count)
    return OK, found.budget.describe()
