"""``ecs-release``, ``rollback``, ``snapshot`` and ``contract``: the AWS release helpers.

A thin layer: options become a release plan, the library does the work. The options all four
share, and the :class:`~expandcontract.cli._aws_session.Session` they run in, live in
:mod:`expandcontract.cli._aws_session`.
"""

from __future__ import annotations

from typing import Any

import click

from expandcontract.cli._aws_session import (
    Session,
    aws_options,
    duration_option,
    max_5xx_option,
    poll_option,
)


def _release_from_image(image: str) -> str:
    """The image tag (or the short digest) names the release unless --release does."""
    name, _, digest = image.partition("@")
    if digest:
        return digest.rsplit(":", 1)[-1][:12]
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    if tag:
        return tag
    raise click.UsageError(f"image {image} has no tag to name the release: pass --release NAME")


def _hooks(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    from expandcontract.aws.codedeploy import HOOK_EVENTS

    hooks = {}
    for value in values:
        event, sep, function = value.partition("=")
        if not sep or event not in HOOK_EVENTS or not function:
            raise click.BadParameter(
                f"{value!r}: use EVENT=LAMBDA with EVENT one of {', '.join(HOOK_EVENTS)}"
            )
        hooks[event] = function
    return hooks


def _phases(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    phases = [p.strip() for p in value.split(",") if p.strip() not in ("", "none")]
    bad = [p for p in phases if p not in ("expand", "migrate")]
    if bad:
        raise click.BadParameter(f"{', '.join(bad)}: only expand and migrate")
    return phases


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
    callback=_phases,
    help="Phases the one-off task applies, comma-separated; 'none' to skip.",
)
@click.option("--skip-lint", is_flag=True, help="Do not run `expandcontract check` first.")
@click.option(
    "--hook",
    "hooks",
    multiple=True,
    callback=_hooks,
    help="Lifecycle hook EVENT=LAMBDA (repeatable).",
)
@max_5xx_option("Green's 5XX rate may exceed blue's by this fraction.")
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
@duration_option(
    "--timeout",
    None,
    "How long to wait until the release is done (default: the deployment group's budget). "
    "Once production traffic reached green, running out never stops the deployment: exit 4.",
)
@duration_option("--migration-timeout", "1h", "Migration task timeout.")
@poll_option("15s")
@duration_option(
    "--mark-stable-after",
    None,
    "Watch green this long after the shift, then mark the release stable.",
)
@duration_option("--soak", None, "Soak recorded with the stable mark (default: config).")
@click.option(
    "--preflight",
    "preflight_only",
    is_flag=True,
    help="Only check everything the release needs (always done first); change nothing.",
)
@aws_options
def ecs_release(session: Session, **options: Any) -> None:
    """Release IMAGE on ECS: preflight, lint, migrate, register, deploy blue/green, watch, record.

    Done means production traffic is 100 % on the new task set and AfterAllowTraffic
    succeeded; the original task set's termination wait that follows is observation time.
    Exits non-zero with the reason when a step fails; a failing deployment is stopped with
    rollback first. Exit 4: the wait ran out (or the credentials expired) after traffic
    reached green; the deployment was left running and the ledger says where it stands.
    The migration task's own exit status is passed on.
    """
    from expandcontract.api import settings_for
    from expandcontract.aws.metrics import Thresholds
    from expandcontract.aws.release import ReleasePlan
    from expandcontract.aws.release import ecs_release as run

    release = options["release_name"] or _release_from_image(options["image"])
    soak = options["soak"]
    if soak is None and options["mark_stable_after"] and session.config is not None:
        soak = settings_for(session.config).soak
    plan = ReleasePlan(
        image=options["image"],
        release=release,
        app_version=options["app_version"],
        phases=options["phases"],
        config_path=session.config_path,
        skip_lint=options["skip_lint"],
        hooks=options["hooks"],
        thresholds=Thresholds(
            max_5xx_increase=options["max_5xx_increase"],
            max_latency_ratio=options["max_latency_ratio"],
            min_requests=options["min_requests"],
        ),
        deployment_timeout=options["timeout"],
        migration_timeout=options["migration_timeout"],
        poll_interval=options["poll_interval"].total_seconds(),
        mark_stable_after=options["mark_stable_after"],
        soak=soak,
    )
    linter = {"linter": session.obj["linter"]} if "linter" in session.obj else {}
    outcome = run(
        session.aws,
        session.target,
        plan,
        session.records(),
        **session.io,
        **linter,
        preflight_only=options["preflight_only"],
    )
    if outcome is None:
        click.echo("preflight passed: nothing was changed")
        return
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
@duration_option(
    "--timeout",
    None,
    "How long to wait for the way back (default: the deployment group's budget); it is "
    "never stopped by us.",
)
@poll_option("15s")
@aws_options
def rollback(session: Session, **options: Any) -> None:
    """Roll back the current release the way its state allows.

    \b
    deployment in progress       stop it with rollback, wait for CodeDeploy's rollback
    shifted, no contract since   redeploy the previous task definition (or --listener flip)
    contract applied             refuse; explain (or --restore-snapshot) the snapshot restore

    The way back is waited for and never stopped by us; a deployment that is itself a
    rollback is never undone. Exit 4: it is still running when the wait ends.
    """
    from expandcontract.aws.rollback import rollback as run

    run(
        session.aws,
        session.target,
        session.records(),
        **session.io,
        listener=options["listener"],
        task_definition=options["task_definition"],
        restore_snapshot=options["restore_snapshot"],
        restored_identifier=options["restored_identifier"],
        timeout=options["timeout"],
        poll_interval=options["poll_interval"].total_seconds(),
    )


@click.command()
@click.option("--identifier", default=None, help="Snapshot identifier (default: computed once).")
@duration_option("--timeout", "3h", "How long to wait for it.")
@poll_option("30s")
@aws_options
def snapshot(session: Session, **options: Any) -> None:
    """Take a pre-contract RDS snapshot, wait for it, and record it in the ledger."""
    from expandcontract.aws.snapshot import take_snapshot
    from expandcontract.ledger import Event

    target = session.target
    if not (target.db_instance_identifier or target.db_cluster_identifier):
        target.require("db_instance_identifier")
    records = session.records()
    stable = None if session.dry_run else records.read(lambda ledger: ledger.latest_stable())
    taken = take_snapshot(
        session.aws,
        **session.io,
        db_instance=None if target.db_cluster_identifier else target.db_instance_identifier,
        db_cluster=target.db_cluster_identifier,
        identifier=options["identifier"],
        timeout=options["timeout"],
        poll_interval=options["poll_interval"].total_seconds(),
        not_before=stable.recorded.recorded_at if stable else None,
    )
    records.record(Event.SNAPSHOT_RECORDED, details=taken.details())
    if not session.dry_run:
        click.echo(f"snapshot {taken.identifier} recorded")


@click.command()
@max_5xx_option(
    "Green's 5XX rate over the soak window (and in any one period) may not exceed this."
)
@click.option(
    "--min-requests",
    type=int,
    default=100,
    show_default=True,
    help="Requests green must have served over the soak; fewer is 'not enough data': refused.",
)
@duration_option("--snapshot-timeout", "3h", "Snapshot wait limit.")
@poll_option("30s")
@aws_options
def contract(session: Session, **options: Any) -> None:
    """Production contract: guard, green healthy over the soak, no deployment, snapshot, apply.

    Refused with exit 3 when any precondition fails.
    """
    from expandcontract.api import contract_allowed, upgrade_phase
    from expandcontract.aws.contract import run_contract
    from expandcontract.aws.metrics import Thresholds
    from expandcontract.phases import Phase

    config = session.require_config()
    run_contract(
        session.aws,
        session.target,
        session.records(),
        judge=lambda: contract_allowed(config),
        apply=lambda: upgrade_phase(config, Phase.CONTRACT),
        **session.io,
        thresholds=Thresholds(
            max_5xx_increase=options["max_5xx_increase"], min_requests=options["min_requests"]
        ),
        snapshot_timeout=options["snapshot_timeout"],
        poll_interval=options["poll_interval"].total_seconds(),
    )
