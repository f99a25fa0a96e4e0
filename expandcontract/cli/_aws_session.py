"""What the AWS commands share: their common options and the :class:`Session` they run in.

:func:`aws_options` adds the release-target settings, ``--from-terraform``, the Alembic config,
the database and ``--dry-run`` to a command, and calls it with a ready :class:`Session` (the
resolved release target, the AWS clients, the ledger). Tests inject clients, clock and sleep
through ``ctx.obj`` (keys ``aws_clients``, ``aws_renew``, ``clock``, ``sleep``, ``linter``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import click

from expandcontract.cli._common import (
    DURATION,
    config_option,
    database_option,
    load_config,
    translate_errors,
)
from expandcontract.durations import utcnow

F = TypeVar("F", bound=Callable[..., Any])


def duration_option(flag: str, default: str | None, help: str) -> Callable[[F], F]:
    """An option whose value arrives as a :class:`timedelta`."""
    return click.option(
        flag, type=DURATION, default=default, show_default=default is not None, help=help
    )


def poll_option(default: str) -> Callable[[F], F]:
    """``--poll-interval``: how long the command's polling loops sleep between reads."""
    return duration_option("--poll-interval", default, "How often to poll.")


def max_5xx_option(help: str) -> Callable[[F], F]:
    """``--max-5xx-increase``: how much worse green's 5XX rate may be (``help`` says than what)."""
    return click.option(
        "--max-5xx-increase", type=float, default=0.01, show_default=True, help=help
    )


def _target_options(func: F) -> F:
    """One option per :class:`ReleaseTarget` setting, plus where settings and the ledger live."""
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
    shared = [
        click.option(
            "--from-terraform",
            "terraform",
            type=click.Path(dir_okay=False),
            envvar="EXPANDCONTRACT_TERRAFORM_OUTPUTS",
            default=None,
            help="A `terraform output -json` file to read the settings above from.",
        ),
        click.option("--profile", default=None, envvar="AWS_PROFILE", help="AWS profile."),
        click.option(
            "--database-url-parameter",
            default=None,
            envvar="EXPANDCONTRACT_DATABASE_URL_PARAMETER",
            help="SSM parameter holding the database URL (for the ledger).",
        ),
        click.option(
            "--db-name",
            default=None,
            envvar="EXPANDCONTRACT_DB_NAME",
            help="Database name when the URL is built from the RDS secret (default postgres).",
        ),
    ]
    for option in shared:
        func = option(func)
    return func


def aws_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the options every AWS command shares; call it as ``command(session, **options)``.

    Put it last (nearest the function), so the command's own options come first in ``--help``.
    """

    @translate_errors
    @functools.wraps(command, updated=())
    def run(**options: Any) -> None:
        command(Session(options), **options)

    for option in (database_option, config_option, _target_options):
        run = option(run)
    return click.option(
        "--dry-run", is_flag=True, help="Print every AWS call it would make; make none."
    )(run)


class Session:
    """What one invocation needs: settings, AWS clients, the ledger, clock, sleep and echo."""

    def __init__(self, options: dict[str, Any]) -> None:
        from expandcontract.aws.clients import Aws
        from expandcontract.aws.target import resolve_target

        self.obj: dict[str, Any] = click.get_current_context().obj or {}
        self.clock = self.obj.get("clock", utcnow)
        self.sleep = self.obj.get("sleep", time.sleep)
        self.echo = click.echo
        self.dry_run = bool(options.get("dry_run"))
        flags = {
            key.removeprefix("target_"): value
            for key, value in options.items()
            if key.startswith("target_")
        }
        self.target = target = resolve_target(flags, terraform=options.get("terraform"))
        self.aws = Aws(
            region=target.region,
            profile=options.get("profile"),
            clients=self.obj.get("aws_clients") or {},
            renew=self.obj.get("aws_renew"),
            sleep=self.sleep,
            dry_run=self.dry_run,
            echo=self.echo,
            dry_run_hints={
                "containers": [target.container_name, target.migration_container_name],
                "container_by_family": {
                    target.migration_task_family: target.migration_container_name
                },
                "live_target_group": target.blue_target_group_arn,
                "listener_target_groups": {target.test_listener_arn: target.green_target_group_arn},
            },
        )
        self.aws.check_credentials()
        self.config_path = str(options.get("config_path") or "alembic.ini")
        self.url = options.get("database_url") or self._database_url(options)
        # Without a config file the ledger is reached through the URL alone.
        self.config = (
            load_config(self.config_path, self.url) if Path(self.config_path).is_file() else None
        )

    @property
    def io(self) -> dict[str, Any]:
        """The ``clock``, ``sleep`` and ``echo`` keyword arguments of the library calls."""
        return {"clock": self.clock, "sleep": self.sleep, "echo": self.echo}

    def _database_url(self, options: dict[str, Any]) -> str | None:
        from expandcontract.aws.database import url_from_parameter, url_from_secret

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

        return Records(self.config, self.url, dry_run=self.dry_run, echo=self.echo)

    def require_config(self) -> Any:
        return self.config or load_config(self.config_path, self.url)
