"""``expandcontract check``: lint an Alembic script directory, phase by phase."""

from __future__ import annotations

import click

from expandcontract.cli._common import config_option, translate_errors

FORMATS = ("text", "json", "sarif", "github")


def _print_rules() -> None:
    from expandcontract.lint.rules import all_rules

    for rule in all_rules():
        click.echo(f"{rule.id}  {rule.name:<32} {rule.severity:<8} {rule.summary}")


@click.command()
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output: readable text, one JSON object, SARIF 2.1.0, or GitHub annotations.",
)
@click.option(
    "--select",
    multiple=True,
    help="Run only these rules (ids, names or prefixes like EC1; repeatable or comma-separated).",
)
@click.option("--ignore", multiple=True, help="Skip these rules (repeatable or comma-separated).")
@click.option(
    "--metadata",
    "metadata",
    multiple=True,
    metavar="RELEASE=MODULE:ATTR",
    help="A live release's SQLAlchemy metadata (repeatable, oldest first), e.g. "
    "blue=app.models_v1:metadata.",
)
@click.option(
    "--include-legacy",
    is_flag=True,
    help="Also lint legacy revisions (at or before the baseline `expandcontract adopt` recorded).",
)
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@translate_errors
def check(
    config_path: str,
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    metadata: tuple[str, ...],
    include_legacy: bool,
    list_rules: bool,
) -> None:
    """Lint every revision for backward compatibility, judged by its phase.

    Exit status: 0 no error findings, 1 error findings, 2 usage or configuration error.
    """
    if list_rules:
        _print_rules()
        return
    from expandcontract.lint import lint
    from expandcontract.lint.formats import FORMATTERS

    result = lint(
        config_path,
        select=select,
        ignore=ignore,
        metadata=metadata,
        include_legacy=include_legacy,
    )
    text = FORMATTERS[output_format](result)
    if text:
        click.echo(text)
    click.get_current_context().exit(result.exit_code)
