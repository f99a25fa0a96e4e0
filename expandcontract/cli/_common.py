"""Options and error handling shared by the commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic.config import Config

from expandcontract.durations import parse_duration
from expandcontract.errors import ConfigurationError, ExpandContractError

F = TypeVar("F", bound=Callable[..., Any])


class ExitWith(click.ClickException):
    """A library error carried out of click with its own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def translate_errors(func: F) -> F:
    """Turn library errors into clean messages and their exit codes (no tracebacks)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ExpandContractError as err:
            raise ExitWith(str(err), err.exit_code) from err

    return wrapper  # type: ignore[return-value]


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        default="alembic.ini",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="Alembic configuration file.",
    )(func)


def database_option(func: F) -> F:
    return click.option(
        "--database-url",
        envvar="DATABASE_URL",
        default=None,
        help="Database URL (default: $DATABASE_URL, then sqlalchemy.url in the config file).",
    )(func)


def database_flag_option(func: F) -> F:
    """``--database-url`` for commands that run env.py: the flag only, never $DATABASE_URL.

    env.py's own ``url=`` / ``connection=`` comes before ``$DATABASE_URL`` (one precedence in
    every command), so the environment variable must not pose as the flag.
    """
    return click.option(
        "--database-url",
        default=None,
        help="Database URL; wins over env.py's url=/connection=, $DATABASE_URL and the config.",
    )(func)


def app_option(func: F) -> F:
    return click.option(
        "--app",
        "flask_app",
        default=None,
        help="Flask application (MODULE or MODULE:create_app) for Flask-Migrate's env.py "
        "(default: $FLASK_APP).",
    )(func)


def load_config(config_path: str, database_url: str | None = None) -> Config:
    """The Alembic config, with our overrides attached for env.py to pick up."""
    from expandcontract.project import load_project_config

    config = load_project_config(config_path, database_url)
    config.attributes["expandcontract.cli"] = True
    return config


def optional_config(config_path: str, database_url: str | None) -> Config | None:
    """The Alembic config, unless an explicit database URL makes it unnecessary."""
    if database_url and not Path(config_path).is_file():
        return None
    return load_config(config_path, database_url)


class Duration(click.ParamType):
    """``90s``, ``30m``, ``2h``, ``P1D`` on the command line, a :class:`timedelta` in code."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except ConfigurationError as err:
            self.fail(str(err), param, ctx)


DURATION = Duration()
