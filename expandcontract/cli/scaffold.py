"""``expandcontract init`` and ``expandcontract revision``."""

from __future__ import annotations

import click

from expandcontract.cli._common import config_option, load_config, translate_errors
from expandcontract.phases import Phase


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@config_option
@translate_errors
def init(directory: str, config_path: str) -> None:
    """Scaffold a guarded Alembic environment in DIRECTORY (plus alembic.ini)."""
    from expandcontract.scaffold import init_environment

    folder = init_environment(directory, config_path)
    click.echo(f"created {config_path} and {folder}/ (env.py calls expandcontract.run_migrations)")
    click.echo("next: expandcontract revision --phase expand -m 'add ...'")


@click.command()
@click.option(
    "--phase",
    required=True,
    type=click.Choice([p.value for p in Phase], case_sensitive=False),
    help="Branch the revision goes on.",
)
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option(
    "--depends-on",
    multiple=True,
    help="Revision it depends on (repeatable). Default: migrate depends on the expand head; "
    "contract on the expand and migrate heads.",
)
@click.option("--autogenerate", is_flag=True, help="Fill the revision from model differences.")
@config_option
@translate_errors
def revision(
    phase: str, message: str, depends_on: tuple[str, ...], autogenerate: bool, config_path: str
) -> None:
    """Create a revision on the PHASE branch (creating the branch root when absent)."""
    from expandcontract.scaffold import create_revision

    config = load_config(config_path)
    created = create_revision(
        config, Phase.parse(phase), message, list(depends_on) or None, autogenerate
    )
    for script in created:
        click.echo(f"created {script.revision} on {phase}: {script.path}")
