"""``upgrade``, ``status``, ``mark-stable`` and ``compat``: moving a database through the phases."""

from __future__ import annotations

import json

import click

from expandcontract.cli._common import (
    config_option,
    database_option,
    load_config,
    optional_config,
    translate_errors,
)
from expandcontract.phases import Phase


@click.command()
@click.argument("phase", type=click.Choice([p.value for p in Phase], case_sensitive=False))
@click.option(
    "--sql", "as_sql", is_flag=True, help="Print the SQL instead of running it (offline)."
)
@click.option(
    "--force", is_flag=True, help="Apply contract although the guard refuses (needs --reason)."
)
@click.option("--reason", default=None, help="Why the guard is overridden; recorded in the ledger.")
@config_option
@database_option
@translate_errors
def upgrade(
    phase: str,
    as_sql: bool,
    force: bool,
    reason: str | None,
    config_path: str,
    database_url: str | None,
) -> None:
    """Apply every pending revision of PHASE (expand, migrate or contract).

    Contract is refused (exit 3) until a release has been marked stable and its soak has passed.
    """
    from expandcontract.api import upgrade_phase

    if force and not (reason and reason.strip()):
        raise click.UsageError("--force needs --reason TEXT (it is recorded in the ledger)")
    if reason and not force:
        raise click.UsageError("--reason only makes sense with --force")
    config = load_config(config_path, database_url)
    upgrade_phase(config, Phase.parse(phase), sql=as_sql, force_reason=reason if force else None)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@config_option
@database_option
@translate_errors
def status(fmt: str, config_path: str, database_url: str | None) -> None:
    """Show heads and pending revisions per phase, the stable mark, and whether contract may run."""
    from expandcontract.api import database_status

    config = load_config(config_path, database_url)
    report = database_status(config).to_dict()
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
        return
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
@database_option
@translate_errors
def mark_stable(
    release: str,
    soak: str | None,
    at: str | None,
    metadata: str | None,
    config_path: str,
    database_url: str | None,
) -> None:
    """Record that RELEASE has served 100 % of traffic, healthy, since --at."""
    from expandcontract.api import mark_release_stable

    config = load_config(config_path, database_url)
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
