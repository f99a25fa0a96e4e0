"""``upgrade``, ``status``, ``mark-stable`` and ``compat``: moving a database through the phases."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

from expandcontract.cli._common import (
    app_option,
    config_option,
    database_flag_option,
    database_option,
    load_config,
    optional_config,
    translate_errors,
)
from expandcontract.phases import Phase, branch_heads

if TYPE_CHECKING:
    from alembic.config import Config

    from expandcontract.deploy import DeployReport


@click.command()
@click.argument(
    "phase", required=False, type=click.Choice([p.value for p in Phase], case_sensitive=False)
)
@click.option(
    "--sql", "as_sql", is_flag=True, help="Print the SQL instead of running it (offline)."
)
@click.option(
    "--force", is_flag=True, help="Apply contract although the guard refuses (needs --reason)."
)
@click.option("--reason", default=None, help="Why the guard is overridden; recorded in the ledger.")
@config_option
@database_flag_option
@app_option
@translate_errors
def upgrade(
    phase: str | None,
    as_sql: bool,
    force: bool,
    reason: str | None,
    config_path: str,
    database_url: str | None,
    flask_app: str | None,
) -> None:
    """Deploy (no PHASE), or apply every pending revision of PHASE.

    \b
    Without PHASE this is the deploy command: expand and migrate are brought up to date and
    contract is applied only when the guard allows it; otherwise it is reported pending with
    when it becomes allowed (exit 0: waiting for a soak is normal). A database without an
    Alembic version table gets every phase in one run.

    With PHASE contract is refused (exit 3) until a release has been marked stable and its
    soak has passed.
    """
    from expandcontract.api import deploy, upgrade_phase
    from expandcontract.project import app_context

    if force and not (reason and reason.strip()):
        raise click.UsageError("--force needs --reason TEXT (it is recorded in the ledger)")
    if reason and not force:
        raise click.UsageError("--reason only makes sense with --force")
    config = load_config(config_path, database_url)
    force_reason = reason if force else None
    started = time.monotonic()
    with app_context(config, flask_app):
        if phase is not None:
            chosen = Phase.parse(phase)
            ran = upgrade_phase(config, chosen, sql=as_sql, force_reason=force_reason)
            if not as_sql:
                _say_applied(config, chosen, ran, time.monotonic() - started)
            return
        report = deploy(config, sql=as_sql, force_reason=force_reason)
    if as_sql:
        return
    if report.fresh_database:
        click.echo("fresh database: every phase applied in this run", err=True)
    applied = ", ".join(report.applied) or "nothing (up to date)"
    click.echo(f"applied: {applied}", err=True)
    if report.forced:
        click.echo("contract applied although the guard refused (forced, recorded)", err=True)
    if report.pending_contract:
        click.echo(report.pending_line())
        for why in report.reasons:
            click.echo(f"  - {why}")


def _say_applied(config: Config, phase: Phase, report: DeployReport, seconds: float) -> None:
    """What ``upgrade PHASE`` did, on stderr like the deploy form's ``applied:`` line."""
    if report.applied:
        click.echo(f"applied {phase}: {', '.join(report.applied)} in {seconds:.1f}s", err=True)
        if report.forced:
            click.echo("contract applied although the guard refused (forced, recorded)", err=True)
        return
    from alembic.script import ScriptDirectory

    heads = branch_heads(ScriptDirectory.from_config(config))[phase]
    click.echo(f"nothing to apply: {phase} already at {', '.join(heads)}", err=True)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@config_option
@database_flag_option
@app_option
@translate_errors
def status(fmt: str, config_path: str, database_url: str | None, flask_app: str | None) -> None:
    """Show heads and pending revisions per phase, the stable mark, and whether contract may run."""
    from expandcontract.api import database_status
    from expandcontract.project import app_context

    config = load_config(config_path, database_url)
    with app_context(config, flask_app):
        report = database_status(config).to_dict()
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"database  from {report['database_url_source'] or 'the given URL'}")
    if report["baseline"]:
        legacy = ", ".join(report["legacy_pending"]) or "none"
        click.echo(f"baseline  {', '.join(report['baseline'])} (legacy pending {legacy})")
    if report["fresh_database"]:
        click.echo("fresh     no Alembic version table: the next deploy applies every phase")
    for phase in Phase:
        heads = ", ".join(report["heads"][phase]) or "-"
        pending = ", ".join(report["pending"][phase]) or "none"
        click.echo(f"{phase:<9} head {heads:<16} pending {pending}")
    stable = report["stable"]
    if stable:
        click.echo(
            f"stable    {stable['release']} since {stable['stable_at']} "
            f"(soak {stable['soak_seconds']:g}s)"
        )
    else:
        click.echo("stable    no release marked stable")
    verdict = "allowed" if report["contract_allowed"] else "refused"
    click.echo(f"contract  {verdict}")
    for reason in report["reasons"]:
        click.echo(f"          - {reason}")
    if report.get("server_guard"):
        click.echo(f"server    guard {report['server_guard']}")


@click.command("mark-stable")
@click.argument("release")
@click.option(
    "--soak",
    default=None,
    help="Soak period: 90s, 30m, 24h, 3d or ISO-8601 (default from config, 24h).",
)
@click.option(
    "--at",
    "at",
    default=None,
    help="Stable since this ISO-8601 time with an offset, e.g. 2026-11-26T09:30:00Z "
    "(default: the database's now).",
)
@click.option(
    "--metadata",
    default=None,
    help="MODULE:ATTR of the release's SQLAlchemy metadata; contract then refuses to drop what it uses.",
)
@config_option
@database_flag_option
@app_option
@translate_errors
def mark_stable(
    release: str,
    soak: str | None,
    at: str | None,
    metadata: str | None,
    config_path: str,
    database_url: str | None,
    flask_app: str | None,
) -> None:
    """Record that RELEASE has served 100 % of traffic, healthy, since --at."""
    from expandcontract.api import mark_release_stable
    from expandcontract.project import app_context

    config = load_config(config_path, database_url)
    with app_context(config, flask_app):
        mark = mark_release_stable(config, release, soak=soak, at=at, metadata=metadata)
    click.echo(
        f"release {mark.release} stable since {mark.stable_at.isoformat(timespec='seconds')}; "
        f"contract allowed from {mark.soak_ends_at.isoformat(timespec='seconds')}"
    )


@click.command()
@click.option("--metadata", required=True, help="MODULE:ATTR of the release's SQLAlchemy metadata.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@config_option
@database_option
@translate_errors
def compat(metadata: str, fmt: str, config_path: str, database_url: str | None) -> None:
    """Check that the live schema can serve a release (exit 1 when it cannot)."""
    from expandcontract.api import schema_compatibility

    config = optional_config(config_path, database_url)
    report = schema_compatibility(metadata, config=config, database_url=database_url)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.compatible:
        click.echo("compatible")
    else:
        click.echo("incompatible:")
        for problem in report.problems:
            click.echo(f"  - {problem}")
    if not report.compatible:
        raise SystemExit(1)
