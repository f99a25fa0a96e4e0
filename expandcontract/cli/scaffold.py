"""``expandcontract init`` and ``expandcontract revision``."""

from __future__ import annotations

import contextlib

import click

from expandcontract.cli._common import (
    app_option,
    config_option,
    database_flag_option,
    load_config,
    translate_errors,
)
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
@database_flag_option
@app_option
@translate_errors
def revision(
    phase: str,
    message: str,
    depends_on: tuple[str, ...],
    autogenerate: bool,
    config_path: str,
    database_url: str | None,
    flask_app: str | None,
) -> None:
    """Create a revision on the PHASE branch.

    A branch's first revision sits on the adopted baseline (or at base in a project scaffolded
    by `init`).
    """
    from expandcontract.project import app_context
    from expandcontract.scaffold import create_revision

    config = load_config(config_path, database_url)
    # Only autogenerate runs env.py (which may need the Flask app).
    env = app_context(config, flask_app) if autogenerate else contextlib.nullcontext()
    with env:
        created = create_revision(
            config, Phase.parse(phase), message, list(depends_on) or None, autogenerate
        )
    for script in created:
        click.echo(f"created {script.revision} on {phase}: {script.path}")


@click.command()
@config_option
@database_flag_option
@translate_errors
def adopt(config_path: str, database_url: str | None) -> None:
    """Adopt an existing Alembic project (plain Alembic or Flask-Migrate).

    \b
    Records the current head revision(s) as the baseline (expandcontract.toml beside env.py):
    revisions at or before it are legacy and run exactly as before. Adds the hook to env.py
    when env.py has the standard shape, otherwise prints the lines to add. Needs no database
    and imports no revision. Changes nothing on bad input.
    """
    from expandcontract.adopt import adopt as adopt_project

    config = load_config(config_path, database_url)
    done = adopt_project(config)
    heads = ", ".join(done.heads) or "none (empty history)"
    click.echo(f"baseline {heads} ({done.revisions} legacy revisions) recorded in {done.baseline}")
    if done.env_edited:
        click.echo(f"hook added to {done.env} (expandcontract.run_migrations)")
    else:
        click.echo(f"{done.env} already calls expandcontract.run_migrations")
    for note in done.notes:
        click.echo(f"note: {note}")
    click.echo(
        "next: expandcontract revision --phase expand -m '...'; deploy with `expandcontract upgrade`"
    )
