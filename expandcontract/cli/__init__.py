"""The ``expandcontract`` command line: a thin translator over the library.

Subcommands live in their own modules and are imported only when used, so ``--help`` stays
fast. To add one, add a line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib

import click

# name -> ("module:attribute" of a click command, one-line summary for --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("expandcontract.cli.scaffold:init", "Scaffold a guarded Alembic environment."),
    "adopt": ("expandcontract.cli.scaffold:adopt", "Adopt an existing Alembic project."),
    "revision": ("expandcontract.cli.scaffold:revision", "Create a revision on a phase branch."),
    "upgrade": (
        "expandcontract.cli.release:upgrade",
        "Deploy (no phase), or apply the pending revisions of a phase.",
    ),
    "status": ("expandcontract.cli.release:status", "Heads, pending revisions, contract verdict."),
    "mark-stable": ("expandcontract.cli.release:mark_stable", "Record that a release is stable."),
    "compat": ("expandcontract.cli.release:compat", "Can the live schema serve a release?"),
    "quarantine": (
        "expandcontract.cli.quarantine:quarantine",
        "List and resolve quarantined rows.",
    ),
    "check": ("expandcontract.cli.check:check", "Lint migrations for backward compatibility."),
    "rehearse": ("expandcontract.cli.rehearse:rehearse", "Rehearse a blue-green address split."),
    "ecs-release": ("expandcontract.cli.aws:ecs_release", "Release on ECS with CodeDeploy (aws)."),
    "rollback": ("expandcontract.cli.aws:rollback", "Phase-aware rollback on ECS (aws)."),
    "snapshot": ("expandcontract.cli.aws:snapshot", "Pre-contract RDS snapshot (aws)."),
    "contract": ("expandcontract.cli.aws:contract", "Guarded production contract (aws)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _, attr = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Static summaries: listing commands must not import them (and Alembic with them).
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="expandcontract")
def main() -> None:
    """Zero-downtime expand -> migrate -> contract schema changes on top of Alembic.

    \b
    expand    additive changes both app versions tolerate
    migrate   batched, resumable data moves
    contract  destructive changes, refused until the new release has soaked
    """
