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
from expandcontract.aws.errors import AwsConfigurationError
from expandcontract.aws.lint import Linter, lint, run_check
from expandcontract.aws.metrics import Thresholds
from expandcontract.aws.migration_task import network_configuration, run_one_off_task
from expandcontract.aws.records import Records
from expandcontract.aws.target import ReleaseTarget
from expandcontract.aws.taskdef import clone_task_definition
from expandcontract.aws.traffic import roles
from expandcontract.aws.watch import Comparison, Watch
from expandcontract.ledger import Clock, Event


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
    deployment_timeout: timedelta = timedelta(hours=2)
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
    echo(f"[{number}/6] {text}")


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
) -> ReleaseOutcome:
    """Run the whole release; raise an :class:`ExpandContractError` subclass at the first failure."""
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
    cluster, service = str(target.cluster), str(target.service)

    previous_release: str | None = None
    if not aws.dry_run:
        # The release is recorded at the end: find out now, not after deploying, if we cannot.
        last = records.read(lambda ledger: ledger.latest(Event.RELEASE_DEPLOYED))
        previous_release = last.release if last else None

    _step(echo, 1, "lint: expandcontract check")
    if plan.skip_lint:
        echo("  skipped (--skip-lint)")
    else:
        lint(plan.config_path, linter)
        echo("  no error findings")

    # Fail before touching the database if the group is busy.
    refuse_if_active(aws, app, group)
    services = aws.ecs.describe_services(cluster=cluster, services=[service]).get("services")
    if not services:
        raise AwsConfigurationError(f"ECS service {service} not found in cluster {cluster}")
    described = services[0]
    previous = str(described["taskDefinition"])

    _step(echo, 2, f"migrate: {', '.join(plan.phases) or 'nothing'} in a one-off ECS task")
    if plan.phases:
        network = network_configuration(described, target.subnets, target.security_groups)
        source = target.migration_task_family or previous
        container = target.migration_container_name if target.migration_task_family else None
        migration = clone_task_definition(
            aws,
            source,
            image=plan.image,
            app_version=plan.app_version or plan.release,
            container=container or target.container_name,
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
            )

    _step(echo, 3, f"register task definition: {plan.image}")
    new = clone_task_definition(
        aws,
        previous,
        image=plan.image,
        app_version=plan.app_version or plan.release,
        container=target.container_name,
    )
    echo(f"  registered {new.arn} (from {previous})")

    _step(echo, 4, f"deploy: CodeDeploy {app}/{group}")
    live = roles(aws, str(target.prod_listener_arn), target.target_groups)
    hooks = dict(plan.hooks)
    if target.smoke_test_function and not hooks:
        hooks["AfterAllowTestTraffic"] = target.smoke_test_function
    deployment_id = create_deployment(
        aws,
        application=app,
        group=group,
        appspec=appspec_content(
            new.arn, str(target.container_name), int(target.container_port or 0), hooks
        ),
        config_name=target.deployment_config_name,
        description=f"expandcontract release {plan.release}",
    )
    echo(f"  deployment {deployment_id} created (blue {live.live}, green {live.idle})")

    _step(echo, 5, "watch: lifecycle hooks, test listener, traffic shift, green vs blue")
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
    watch.deployment(deployment_id, plan.deployment_timeout)

    _step(echo, 6, "record: release deployed in the ledger")
    records.record(
        Event.RELEASE_DEPLOYED,
        release=plan.release,
        details={
            "image": plan.image,
            "task_definition": new.arn,
            "previous_task_definition": previous,
            "previous_release": previous_release,
            "deployment_id": deployment_id,
            "target_group": live.idle,
        },
    )
    if plan.mark_stable_after is not None:
        echo(f"  watching green for {plan.mark_stable_after} before marking it stable")
        stable_since = clock() if aws.dry_run else watch.soak(plan.mark_stable_after)
        records.record_stable(
            plan.release, soak=plan.soak or timedelta(hours=24), stable_at=stable_since
        )
    return ReleaseOutcome(deployment_id, new.arn, previous)
