"""``expandcontract quarantine``: see and resolve rows a backfill could not convert."""

from __future__ import annotations

import json

import click

from expandcontract.cli._common import (
    config_option,
    database_option,
    optional_config,
    translate_errors,
)


@click.group()
def quarantine() -> None:
    """List and resolve quarantined rows (the contract waits for them)."""


@quarantine.command("list")
@click.option("--table", default=None, help="Only rows of this table.")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved rows.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=0),
    help="Show at most this many rows in text format (0: all); the output says when it cuts.",
)
@config_option
@database_option
@translate_errors
def list_rows(
    table: str | None,
    include_resolved: bool,
    fmt: str,
    limit: int,
    config_path: str,
    database_url: str | None,
) -> None:
    """Show quarantined rows: table, primary key, original value and reason."""
    from expandcontract.api import connect
    from expandcontract.backfill import list_quarantine

    config = optional_config(config_path, database_url)
    with connect(config, database_url) as connection:
        rows = list_quarantine(connection, table, include_resolved=include_resolved)
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": row.id,
                        "table": row.table_name,
                        "primary_key": row.primary_key,
                        "original": row.original_value,
                        "reason": row.reason,
                        "backfill": row.backfill_name,
                        "resolution": row.resolution,
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
        return
    if not rows:
        click.echo("no quarantined rows")
    shown = rows if limit == 0 else rows[:limit]
    for row in shown:
        state = f" [resolved: {row.resolution}]" if row.resolution else ""
        click.echo(f"{row.table_name} {row.primary_key}: {row.reason}{state}")
        click.echo(f"    original: {row.original_value!r}")
    if len(shown) < len(rows):
        click.echo(
            f"showing {len(shown)} of {len(rows)} quarantined rows "
            "(--limit 0 shows all, --format json lists all)"
        )


@quarantine.command()
@click.argument("table")
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="Primary key of a row to resolve (repeatable; default all).",
)
@click.option(
    "--resolution", required=True, help="What was done: 'fixed by hand', 'accepted as is', ..."
)
@config_option
@database_option
@translate_errors
def resolve(
    table: str, keys: tuple[str, ...], resolution: str, config_path: str, database_url: str | None
) -> None:
    """Mark quarantined rows of TABLE resolved (the entries are kept for the record)."""
    from expandcontract.api import connect
    from expandcontract.backfill import resolve_quarantine

    if not resolution.strip():
        raise click.UsageError("--resolution must say what was done")
    config = optional_config(config_path, database_url)
    with connect(config, database_url) as connection:
        count = resolve_quarantine(
            connection, table, keys=list(keys) or None, resolution=resolution.strip()
        )
        connection.commit()
    click.echo(f"resolved {count} quarantined row(s) of {table}")
