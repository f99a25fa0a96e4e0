"""The ``expandcontract`` command line: a thin translator over the library.

Subcommands live in their own modules and are imported only when used, so ``--help`` stays
fast. To add one, add a line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "init": "expandcontract.cli.scaffold:init",
    "revision": "expandcontract.cli.scaffold:revision",
    "upgrade": "expandcontract.cli.release:upgrade",
    "status": "expandcontract.cli.release:status",
    "mark-stable": "expandcontract.cli.release:mark_stable",
    "compat": "expandcontract.cli.release:compat",
    "rehearse": "expandcontract.cli.rehearse:rehearse",
    "ecs-release": "expandcontract.cli.aws:ecs_release",
    "rollback": "expandcontract.cli.aws:rollback",
    "snapshot": "expandcontract.cli.aws:snapshot",
    "contract": "expandcontract.cli.aws:contract",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="expandcontract")
def main() -> None:
    """Zero-downtime expand -> migrate -> contract schema changes on top of Alembic.

    \b
    expand    additive changes both app versions tolerate
    migrate   batched, resumable data moves
    contract  destructive changes, refused until the new release has soaked
    """
