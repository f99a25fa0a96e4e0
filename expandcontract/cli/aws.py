"""``ecs-release``, ``rollback``, ``snapshot`` and ``contract``: the AWS release helpers.

A thin layer: options become a :class:`ReleaseTarget` and a plan, the library does the work.
Tests inject clients, clock and sleep through ``ctx.obj`` (keys ``aws_clients``, ``clock``,
``sleep``, ``linter``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from expandcontract.cli._common import config_option, database_option, translate_errors
from expandcontract.durations import parse_duration, utcnow

F = TypeVar("F", bound=Callable[..., Any])


def _target_options(func: F) -> F:
    """One option per :class:`ReleaseTarget` setting, plus ``--from-terraform``."""
    from expandcontract.aws.target import LIST_FIELDS, ReleaseTarget, env_name

    for spec in reversed(fields(ReleaseTarget)):
        meta = spec.metadata
        source = f" (env {env_name(spec.name)}" + (
            f", terraform output {meta['terraform']})" if meta["terraform"] else ")"
        )
        func = click.option(
            meta["flag"],
            f"target_{spec.name}",
            multiple=spec.name in LIST_FIELDS,
            type=int if spec.name == "container_port" else str,
            default=None,
            help=spec.name.replace("_", " ").capitalize() + source + ".",
        )(func)
    func = click.option(
        "--from-terraform",
        "terraform",
        type=click.Path(dir_okay=False),
        envvar="EXPANDCONTRACT_TERRAFORM_OUTPUTS",
        default=None,
        help="A `terraform output -json` file to read the settings above from.",
    )(func)
    func = click.option("--profile", default=None, envvar="AWS_PROFILE", help="AWS profile.")(func)
    func = click.option(
        "--database-url-parameter",
        default=None,
        envvar="EXPANDCONTRACT_DATABASE_URL_PARAMETER",
        help="SSM parameter holding the database URL (for the ledger).",
    )(func)
    func = click.option(
        "--db-name",
        default=None,
        envvar="EXPANDCONTRACT_DB_NAME",
        help="Database name when the URL is built from the RDS secret (default postgres).",
    )(func)
    return func


def _dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run", is_flag=True, help="Print every AWS call it would make; make none."
    )(func)


class Session:
    """Everything one command invocation needs, built from its options and ``ctx.obj``."""

    def __init__(self, options: dict[str, Any], *, dry_run: bool = False) -> None:
        from expandcontract.aws.clients import Aws, boto3_missing
        from expandcontract.aws.target import resolve_target

        obj = click.get_current_context().obj or {}
        self.obj = obj
        self.clock = obj.get("clock", utcnow)
        self.sleep = obj.get("sleep", time.sleep)
        self.echo = click.echo
        self.dry_run = dry_run
        flags = {
            key.removeprefix("target_"): value
            for key, value in options.items()
            if key.startswith("target_")
        }
        self.target = resolve_target(flags, terraform=options.get("terraform"))
        if "aws_clients" not in obj and not dry_run:
            try:
                import botocore  # noqa: F401
            except ImportError as err:
                raise boto3_missing() from err
        self.aws = Aws(
            region=self.target.region,
            profile=options.get("profile"),
            clients=obj.get("aws_clients"),
            sleep=self.sleep,
            dry_run=dry_run,
            echo=self.echo,
            dry_run_hints={
                "containers": [
                    self.target.container_name,
                    self.target.migration_container_name,
                ],
                "container_by_family": {
                    self.target.migration_task_family: self.target.migration_container_name
                },
                "live_target_group": self.target.blue_target_group_arn,
                "listener_target_groups": {
                    self.target.test_listener_arn: self.target.green_target_group_arn
                },
            },
        )
        self.aws.check_credentials()
        self.config_path = str(options.get("config_path") or "alembic.ini")
        self.config = self._config(options.get("database_url"))

    def _config(self, url: str | None) -> Any:
        from alembic.config import Config

        if url is None:
            url = self._database_url()
        if not Path(self.config_path).is_file():
            self.url = url
            return None
        config = Config(self.config_path)
        if url:
            config.attributes["expandcontract.database_url"] = url
        self.url = url
        return config

    def _database_url(self) -> str | None:
        from expandcontract.aws.database import url_from_parameter, url_from_secret

        options = click.get_current_context().params
        if self.dry_run:
            return None
        if options.get("database_url_parameter"):
            return url_from_parameter(self.aws, options["database_url_parameter"])
        if self.target.db_secret_arn and self.target.db_endpoint:
            return url_from_secret(
                self.aws,
                self.target.db_secret_arn,
                host=self.target.db_endpoint,
                database=options.get("db_name"),
            )
        return None

    def records(self) -> Any:
        from expandcontract.aws.records import Records

        return Records(
            self.config, self.url, dry_run=self.dry_run, echo=self.echo, clock=self.clock
        )

    def require_config(self) -> Any:
        from expandcontract.errors import ConfigurationError

        if self.config is None:
            raise ConfigurationError(
                f"no Alembic config at {self.config_path}: pass -c PATH (the migrations to check "
                "and apply live there)"
            )
        return self.config


def _duration(value: str | None) -> timedelta | None:
    return parse_duration(value) if value else None


def _release_from_image(image: str) -> str:
    """The image tag (or the short digest) names the release unless --release does."""
    name, _, digest = image.partition("@")
    if digest:
        return digest.rsplit(":", 1)[-1][:12]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    raise click.UsageError(f"image {image} has no tag to name the release: pass --release NAME")


def _hooks(values: tuple[str, ...]) -> dict[str, str]:
    from expandcontract.aws.codedeploy import HOOK_EVENTS

    hooks = {}
    for value in values:
        event, sep, function = value.partition("=")
        if not sep or event not in HOOK_EVENTS or not function:
            raise click.BadParameter(
                f"{value!r}: use EVENT=LAMBDA with EVENT one of {', '.join(HOOK_EVENTS)}",
                param_hint="--hook",
            )
        hooks[event] = function
    return hooks


@click.command("ecs-release")
@click.option("--image", required=True, help="The new container image (repository:tag).")
@click.option("--release", "release_name", default=None, help="Release name (default: image tag).")
@click.option(
    "--app-version", default=None, help="APP_VERSION of the new tasks (default: release)."
)
@click.option(
    "--phases",
    default="expand,migrate",
    show_default=True,
    help="Phases the one-off task applies, comma-separated; 'none' to skip.",
)
@click.option("--skip-lint", is_flag=True, help="Do not run `expandcontract check` first.")
@click.option("--hook", "hooks", multiple=True, help="Lifecycle hook EVENT=LAMBDA (repeatable).")
@click.option(
    "--max-5xx-increase",
    type=float,
    default=0.01,
    show_default=True,
    help="Green's 5XX rate may exceed blue's by this fraction.",
)
@click.option(
    "--max-latency-ratio",
    type=float,
    default=1.5,
    show_default=True,
    help="Green's mean latency may be this multiple of blue's.",
)
@click.option(
    "--min-requests",
    type=int,
    default=20,
    show_default=True,
    help="Green requests needed before its rates are judged.",
)
@click.option("--timeout", default="2h", show_default=True, help="Deployment timeout.")
@click.option(
    "--migration-timeout", default="1h", show_default=True, help="Migration task timeout."
)
@click.option("--poll-interval", default="15s", show_default=True, help="How often to poll.")
@click.option(
    "--mark-stable-after",
    default=None,
    help="Watch green this long after the shift, then mark the release stable.",
)
@click.option("--soak", default=None, help="Soak recorded with the stable mark (default: config).")
@_dry_run_option
@_target_options
@config_option
@database_option
@translate_errors
def ecs_release(**options: Any) -> None:
    """Release IMAGE on ECS: lint, migrate, register, deploy blue/green, watch, record.

    Exits non-zero with the reason when any step fails; a failing deployment is stopped with
    rollback first. The migration task's own exit status is passed on.
    """
    from expandcontract.api import settings_for
    from expandcontract.aws.metrics import Thresholds
    from expandcontract.aws.release import ReleasePlan
    from expandcontract.aws.release import ecs_release as run

    session = Session(options, dry_run=options["dry_run"])
    image = options["image"]
    release = options["release_name"] or _release_from_image(image)
    phases = [p.strip() for p in options["phases"].split(",") if p.strip() not in ("", "none")]
    bad = [p for p in phases if p not in ("expand", "migrate")]
    if bad:
        raise click.BadParameter(
            f"{', '.join(bad)}: only expand and migrate", param_hint="--phases"
        )
    soak = _duration(options["soak"])
    if soak is None and options["mark_stable_after"] and session.config is not None:
        soak = settings_for(session.config).soak
    plan = ReleasePlan(
        image=image,
        release=release,
        app_version=options["app_version"],
        phases=phases,
        config_path=session.config_path,
        skip_lint=options["skip_lint"],
        hooks=_hooks(options["hooks"]),
        thresholds=Thresholds(
            max_5xx_increase=options["max_5xx_increase"],
            max_latency_ratio=options["max_latency_ratio"],
            min_requests=options["min_requests"],
        ),
        deployment_timeout=parse_duration(options["timeout"]),
        migration_timeout=parse_duration(options["migration_timeout"]),
        poll_interval=parse_duration(options["poll_interval"]).total_seconds(),
        mark_stable_after=_duration(options["mark_stable_after"]),
        soak=soak,
    )
    extra = {"linter": session.obj["linter"]} if "linter" in session.obj else {}
    outcome = run(
        session.aws,
        session.target,
        plan,
        session.records(),
        clock=session.clock,
        sleep=session.sleep,
        echo=session.echo,
        **extra,
    )
    click.echo(
        f"released {release}: {outcome.task_definition} (deployment {outcome.deployment_id})"
    )


@click.command()
@click.option(
    "--listener",
    is_flag=True,
    help="Break-glass: flip the production listener (only to healthy targets).",
)
@click.option("--task-definition", default=None, help="Redeploy this task definition instead.")
@click.option(
    "--restore-snapshot",
    default=None,
    help="After contract: restore this snapshot to a new instance.",
)
@click.option("--restored-identifier", default=None, help="Identifier of the restored instance.")
@click.option("--timeout", default="1h", show_default=True, help="Redeployment timeout.")
@click.option("--poll-interval", default="15s", show_default=True, help="How often to poll.")
@_dry_run_option
@_target_options
@config_option
@database_option
@translate_errors
def rollback(**options: Any) -> None:
    """Roll back the current release the way its state allows.

    \b
    deployment in progress       stop it with rollback
    shifted, no contract since   redeploy the previous task definition (or --listener flip)
    contract applied             refuse; explain (or --restore-snapshot) the snapshot restore
    """
    from expandcontract.aws.rollback import rollback as run

    session = Session(options, dry_run=options["dry_run"])
    run(
        session.aws,
        session.target,
        session.records(),
        clock=session.clock,
        sleep=session.sleep,
        echo=session.echo,
        listener=options["listener"],
        task_definition=options["task_definition"],
        restore_snapshot=options["restore_snapshot"],
        restored_identifier=options["restored_identifier"],
        timeout=parse_duration(options["timeout"]),
        poll_interval=parse_duration(options["poll_interval"]).total_seconds(),
    )


@click.command()
@click.option("--identifier", default=None, help="Snapshot identifier (default: computed once).")
@click.option("--timeout", default="3h", show_default=True, help="How long to wait for it.")
@click.option("--poll-interval", default="30s", show_default=True, help="How often to poll.")
@_dry_run_option
@_target_options
@config_option
@database_option
@translate_errors
def snapshot(**options: Any) -> None:
    """Take a pre-contract RDS snapshot, wait for it, and record it in the ledger."""
    from expandcontract.aws.snapshot import take_snapshot
    from expandcontract.ledger import Event

    session = Session(options, dry_run=options["dry_run"])
    target = session.target
    if not (target.db_instance_identifier or target.db_cluster_identifier):
        target.require("db_instance_identifier")
    taken = take_snapshot(
        session.aws,
        clock=session.clock,
        sleep=session.sleep,
        echo=session.echo,
        db_instance=None if target.db_cluster_identifier else target.db_instance_identifier,
        db_cluster=target.db_cluster_identifier,
        identifier=options["identifier"],
        timeout=parse_duration(options["timeout"]),
        poll_interval=parse_duration(options["poll_interval"]).total_seconds(),
    )
    session.records().record(Event.SNAPSHOT_RECORDED, details=taken.details())
    if not session.dry_run:
        click.echo(f"snapshot {taken.identifier} recorded")


@click.command()
@click.option(
    "--max-5xx-increase",
    type=float,
    default=0.01,
    show_default=True,
    help="Green's 5XX rate over the soak window (and in any one period) may not exceed this.",
)
@click.option("--snapshot-timeout", default="3h", show_default=True, help="Snapshot wait limit.")
@click.option("--poll-interval", default="30s", show_default=True, help="How often to poll.")
@_dry_run_option
@_target_options
@config_option
@database_option
@translate_errors
def contract(**options: Any) -> None:
    """Production contract: guard, green healthy over the soak, no deployment, snapshot, apply.

    Refused with exit 3 when any precondition fails.
    """
    from expandcontract.api import contract_allowed, upgrade_phase
    from expandcontract.aws.contract import run_contract
    from expandcontract.aws.metrics import Thresholds
    from expandcontract.phases import Phase

    session = Session(options, dry_run=options["dry_run"])
    config = session.require_config()
    run_contract(
        session.aws,
        session.target,
        session.records(),
        judge=lambda: contract_allowed(config, clock=session.clock),
        apply=lambda: upgrade_phase(config, Phase.CONTRACT, clock=session.clock),
        clock=session.clock,
        sleep=session.sleep,
        echo=session.echo,
        thresholds=Thresholds(max_5xx_increase=options["max_5xx_increase"]),
        snapshot_timeout=parse_duration(options["snapshot_timeout"]),
        poll_interval=parse_duration(options["poll_interval"]).total_seconds(),
    )
