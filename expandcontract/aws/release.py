"""``ecs-release``: lint, migrate in a one-off task, register, deploy, watch, record.

Each step is printed as it runs. Every AWS call goes through :class:`Aws`, so ``--dry-run``
prints the very calls a real run would make (answered with placeholders) and makes none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.codedeploy import appspec_content, create_deployment, refuse_if_active
from expandcontract.aws.errors import DeploymentUnfinished
from expandcontract.aws.lint import Linter, lint, run_check
from expandcontract.aws.metrics import Thresholds
from expandcontract.aws.migration_task import network_configuration, run_one_off_task
from expandcontract.aws.preflight import Preflight, preflight
from expandcontract.aws.records import Records
from expandcontract.aws.target import ReleaseTarget
from expandcontract.aws.taskdef import clone_task_definition
from expandcontract.aws.traffic import roles
from expandcontract.aws.watch import TEST_TRAFFIC_HOOK, Comparison, Watch
from expandcontract.durations import Clock
from expandcontract.ledger import Event


@dataclass(frozen=True)
class ReleasePlan:
    """What to release and how carefully."""

    image: str
    release: str
    app_version: str | None = None
    phases: Sequence[str] = ("expand", "migrate")
    config_path: str = "alembic.ini"
    skip_lint: bool = False
    hooks: Mapping[str, str] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    deployment_timeout: timedelta | None = None  # None: the deployment group's budget
    migration_timeout: timedelta = timedelta(hours=1)
    poll_interval: float = 15.0
    mark_stable_after: timedelta | None = None
    soak: timedelta | None = None


@dataclass(frozen=True)
class ReleaseOutcome:
    deployment_id: str
    task_definition: str
    previous_task_definition: str


def _step(echo: Echo, number: int, text: str) -> None:
    echo(f"[{number}/7] {text}")


def _dry_run_preflight(aws: Aws, target: ReleaseTarget, echo: Echo) -> Preflight:
    """A dry run has no real answers to check: it says so and carries on with placeholders."""
    echo("  [dry-run] preflight needs real answers from AWS: run --preflight to check")
    found = Preflight()
    services = aws.ecs.describe_services(cluster=target.cluster, services=[target.service])
    found.service = dict((services.get("services") or [{}])[0])
    found.app_source = target.app_task_definition or str(found.service.get("taskDefinition"))
    found.migration_source = (
        target.migration_task_definition or target.migration_task_family or found.app_source
    )
    return found


def ecs_release(
    aws: Aws,
    target: ReleaseTarget,
    plan: ReleasePlan,
    records: Records,
    *,
    clock: Clock,
    sleep: Sleep,
    echo: Echo,
    linter: Linter = run_check,
    preflight_only: bool = False,
) -> ReleaseOutcome | None:
    """Run the whole release; raise an :class:`ExpandContractError` subclass at the first failure.

    Preflight runs first and changes nothing; ``preflight_only`` stops after it (None).
    """
    target.require(
        "cluster",
        "service",
        "container_name",
        "container_port",
        "codedeploy_app",
        "codedeploy_group",
        "prod_listener_arn",
        "blue_target_group_arn",
        "green_target_group_arn",
    )
    app, group = str(target.codedeploy_app), str(target.codedeploy_group)
    cluster = str(target.cluster)
    hooks = dict(plan.hooks)
    if target.smoke_test_function:
        # --hook adds hooks; it never silently drops the smoke test.
        hooks.setdefault(TEST_TRAFFIC_HOOK, target.smoke_test_function)

    _step(echo, 1, "preflight: everything the release needs, before any change")
    if aws.dry_run:
        found = _dry_run_preflight(aws, target, echo)
    else:
        found = preflight(
            aws,
            target,
            records,
            image=plan.image,
            echo=echo,
            hook_count=len(hooks),
            config_name=target.deployment_config_name,
        )
    timeout = plan.deployment_timeout
    if found.budget is not None:
        echo(f"  wait budget: {found.budget.describe()}")
        if timeout is None:
            timeout = found.budget.until_done
        elif timeout < found.budget.until_done:
            echo(
                f"  note: --timeout {timeout} is shorter than the budget; if it runs out after "
                "production traffic reached green, the deployment is left running (exit 4)"
            )
    timeout = timeout or timedelta(hours=2)
    if preflight_only:
        return None

    previous_release: str | None = None
    if not aws.dry_run:
        last = records.read(lambda ledger: ledger.latest(Event.RELEASE_DEPLOYED))
        previous_release = last.release if last else None

    _step(echo, 2, "lint: expandcontract check")
    if plan.skip_lint:
        echo("  skipped (--skip-lint)")
    else:
        lint(plan.config_path, linter)
        echo("  no error findings")

    # Fail before touching the database if the group became busy since the preflight.
    refuse_if_active(aws, app, group)
    previous = str(found.service.get("taskDefinition"))

    _step(echo, 3, f"migrate: {', '.join(plan.phases) or 'nothing'} in a one-off ECS task")
    if plan.phases:
        network = network_configuration(found.service, target.subnets, target.security_groups)
        separate = target.migration_task_definition or target.migration_task_family
        migration = clone_task_definition(
            aws,
            str(found.migration_source),
            image=plan.image,
            app_version=plan.app_version or plan.release,
            container=(target.migration_container_name if separate else None)
            or target.container_name,
        )
        echo(f"  registered migration task definition {migration.arn}")
        for phase in plan.phases:
            run_one_off_task(
                aws,
                cluster=cluster,
                task_definition=migration.arn,
                definition=migration.definition,
                container=migration.container,
                command=["expandcontract", "upgrade", phase],
                network=network,
                clock=clock,
                sleep=sleep,
                echo=echo,
                timeout=plan.migration_timeout,
                poll_interval=plan.poll_interval,
                platform_version=found.service.get("platformVersion"),
            )

    _step(echo, 4, f"register task definition: {plan.image}")
    new = clone_task_definition(
        aws,
        str(found.app_source),
        image=plan.image,
        app_version=plan.app_version or plan.release,
        container=target.container_name,
    )
    echo(f"  registered {new.arn} (from {found.app_source})")

    _step(echo, 5, f"deploy: CodeDeploy {app}/{group}")
    placement = dict(found.service)
    if target.subnets and target.security_groups:
        # The configured (Terraform) network is the source of truth: ECS refuses to change it
        # through UpdateService on a CODE_DEPLOY service, so a release is how it gets there.
        live_network = (found.service.get("networkConfiguration") or {}).get(
            "awsvpcConfiguration"
        ) or {}
        placement["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(target.subnets),
                "securityGroups": list(target.security_groups),
                "assignPublicIp": live_network.get("assignPublicIp", "DISABLED"),
            }
        }
    live = roles(aws, str(target.prod_listener_arn), target.target_groups)
    deployment_id = create_deployment(
        aws,
        application=app,
        group=group,
        appspec=appspec_content(
            new.arn,
            str(target.container_name),
            int(target.container_port or 0),
            hooks,
            placement,
        ),
        config_name=target.deployment_config_name,
        description=f"expandcontract release {plan.release}",
    )
    echo(f"  deployment {deployment_id} created (blue {live.live}, green {live.idle})")

    _step(echo, 6, "watch: lifecycle hooks, test listener, traffic shift, green vs blue")
    watch = Watch(
        aws,
        clock,
        sleep,
        echo,
        alarms=target.alarm_names,
        comparison=Comparison(
            blue=live.live,
            green=live.idle,
            listener_arn=str(target.prod_listener_arn),
            thresholds=plan.thresholds,
        ),
        poll_interval=plan.poll_interval,
        test_listener_arn=target.test_listener_arn,
    )
    details: dict[str, object] = {
        "image": plan.image,
        "task_definition": new.arn,
        "previous_task_definition": previous,
        "previous_release": previous_release,
        "deployment_id": deployment_id,
        "target_group": live.idle,
    }
    try:
        standing = watch.deployment(deployment_id, timeout)
    except DeploymentUnfinished as err:
        # Not done, not stopped: the ledger says so, and the next command knows where it is.
        _step(echo, 7, "record: release NOT confirmed (deployment still running) in the ledger")
        details.update(confirmed=False, where=err.where)
        records.record(Event.RELEASE_DEPLOYED, release=plan.release, details=details)
        raise

    _step(echo, 7, "record: release deployed in the ledger")
    details["confirmed"] = True
    if found.budget is not None and standing.status != "Succeeded":
        ends = clock() + found.budget.termination_wait
        details["termination_wait_ends"] = ends.isoformat(timespec="seconds")
        echo(
            f"  the original task set stays up until about {ends.isoformat(timespec='minutes')} "
            "(termination wait): `expandcontract rollback` until then is instant"
        )
    records.record(Event.RELEASE_DEPLOYED, release=plan.release, details=details)
    if plan.mark_stable_after is not None:
        echo(f"  watching green for {plan.mark_stable_after} before marking it stable")
        stable_since = clock() if aws.dry_run else watch.soak(plan.mark_stable_after)
        records.record_stable(
            plan.release, soak=plan.soak or timedelta(hours=24), stable_at=stable_since
        )
    return ReleaseOutcome(deployment_id, new.arn, previous)
