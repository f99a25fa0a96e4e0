"""The public, typed API: what the CLI does, callable from Python.

Importing this module pulls in neither Flask nor boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from expandcontract.compat import CompatibilityReport, check_compatibility
from expandcontract.config import Settings, load_settings
from expandcontract.deploy import DeployReport
from expandcontract.durations import parse_duration, parse_timestamp
from expandcontract.envpy import env_has_hook
from expandcontract.errors import ConfigurationError, MissingHookError
from expandcontract.guard import Verdict
from expandcontract.hook import PROBE_KEY, REPORT_KEY
from expandcontract.ledger import Ledger, StableMark
from expandcontract.phases import Phase, branch_heads, validate_history
from expandcontract.runtime.connect import check_reachable, create_engine, database_url
from expandcontract.scaffold import HOOK_LINE
from expandcontract.status import Status, collect_status
from expandcontract.usage import load_metadata, schema_usage


def settings_for(config: Config) -> Settings:
    cached = config.attributes.get("expandcontract.settings")
    if cached is None:
        base = Path(config.config_file_name).parent if config.config_file_name else None
        cached = config.attributes["expandcontract.settings"] = load_settings(base)
    return cached


@contextmanager
def connect(config: Config | None = None, url: str | None = None) -> Iterator[Connection]:
    """A connection to the target database (reachability checked, clear error otherwise)."""
    engine = create_engine(url or database_url(config))
    try:
        check_reachable(engine)
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


T = TypeVar("T")


def through_env(config: Config, work: Callable[[Connection, str], T]) -> T:
    """Run ``work(connection, url_source)`` on the connection env.py would migrate.

    env.py runs up to its ``expandcontract.run_migrations`` call, which hands over the
    connection chosen by the one URL precedence (``--database-url``, env.py's ``url=`` /
    ``connection=``, ``$DATABASE_URL``, ``sqlalchemy.url``) instead of migrating. A config
    without a script location (or an env.py without the hook) uses the URL alone.
    """
    if not config.get_main_option("script_location"):
        with connect(config) as connection:
            return work(connection, "")
    script = script_directory(config)
    box: list[T] = []
    config.attributes[PROBE_KEY] = lambda connection, source: box.append(work(connection, source))
    try:
        with EnvironmentContext(config, script, fn=lambda _rev, _ctx: [], as_sql=False):
            script.run_env()
    finally:
        config.attributes.pop(PROBE_KEY, None)
    if not box:
        raise ConfigurationError(
            f"{Path(script.dir) / 'env.py'} did not call expandcontract.run_migrations in "
            "online mode, so the database it migrates is unknown"
        )
    return box[0]


def script_directory(config: Config) -> ScriptDirectory:
    """The script directory, checked against the phase rules and for the env.py hook."""
    try:
        script = ScriptDirectory.from_config(config)
    except Exception as err:  # alembic raises CommandError / util errors for a bad location
        raise ConfigurationError(f"cannot load the migration scripts: {err}") from err
    if not env_has_hook(Path(script.dir) / "env.py"):
        raise MissingHookError(
            f"{Path(script.dir) / 'env.py'} does not call expandcontract, so nothing guards the "
            f"contract phase. An existing project: run `expandcontract adopt`. Otherwise add "
            f"`import expandcontract` and replace context.configure(...) / "
            f"context.run_migrations() with:\n    {HOOK_LINE}"
        )
    validate_history(script)
    return script


def upgrade_phase(
    config: Config,
    phase: Phase,
    *,
    sql: bool = False,
    force_reason: str | None = None,
) -> DeployReport:
    """Apply every pending revision of ``phase`` (through the guard for contract).

    Returns what was applied (``applied`` lists the revision ids in order; empty when the
    phase was already at its head, or with ``sql``).
    """
    script = script_directory(config)
    if not branch_heads(script)[phase]:
        raise ConfigurationError(
            f"there are no {phase} revisions: create one with "
            f"`expandcontract revision --phase {phase} -m MESSAGE`"
        )
    settings_for(config)
    if force_reason:
        config.attributes["expandcontract.force_reason"] = force_reason
    config.attributes.pop(REPORT_KEY, None)
    command.upgrade(config, f"{phase}@head", sql=sql)
    report = config.attributes.get(REPORT_KEY)
    return report if isinstance(report, DeployReport) and not sql else DeployReport()


def deploy(
    config: Config,
    *,
    sql: bool = False,
    force_reason: str | None = None,
) -> DeployReport:
    """The deploy command: expand and migrate up to date, contract only when the guard allows.

    A contract that may not run yet is reported pending in the returned report (no error):
    waiting for a soak is a normal state of a deploy. On a database without an Alembic version
    table every phase is applied.
    """
    script_directory(config)
    settings_for(config)
    if force_reason:
        config.attributes["expandcontract.force_reason"] = force_reason
    config.attributes.pop(REPORT_KEY, None)
    command.upgrade(config, "heads", sql=sql)
    report = config.attributes.get(REPORT_KEY)
    return report if isinstance(report, DeployReport) else DeployReport()


def database_status(config: Config) -> Status:
    """Heads, pending revisions, the stable mark and the contract verdict (read-only)."""
    settings = settings_for(config)
    return through_env(
        config,
        lambda connection, source: collect_status(config, connection, settings, source),
    )


def mark_release_stable(
    config: Config,
    release: str,
    *,
    soak: str | timedelta | None = None,
    at: str | None = None,
    metadata: str | None = None,
) -> StableMark:
    """Record that ``release`` has served all traffic, healthy, since ``at`` (default now)."""
    if not release.strip():
        raise ConfigurationError("the release name must not be empty")
    settings = settings_for(config)
    soak_period = parse_duration(soak) if isinstance(soak, str) else (soak or settings.soak)
    # "now" is the database's now, not this machine's (a fast runner must not mark the future).
    stable_at = parse_timestamp(at) if at and at.strip().lower() != "now" else None
    usage = schema_usage(load_metadata(metadata)) if metadata else None

    def record(connection: Connection, _source: str) -> StableMark:
        if connection.in_transaction():
            connection.commit()
        ledger = Ledger(connection)
        ledger.ensure()
        mark = ledger.record_stable(release, soak=soak_period, stable_at=stable_at, usage=usage)
        connection.commit()
        return mark

    return through_env(config, record)


def contract_allowed(config: Config, *, connection: Connection | None = None) -> Verdict:
    """Is contract allowed now, and why not? Judges the pending contract revisions."""
    if connection is not None:
        return collect_status(config, connection, settings_for(config)).verdict
    return database_status(config).verdict


def schema_compatibility(
    metadata: str,
    *,
    config: Config | None = None,
    database_url: str | None = None,
) -> CompatibilityReport:
    """Can the live schema serve the release whose metadata is ``MODULE:ATTR``?"""
    with connect(config, database_url) as connection:
        return check_compatibility(connection, load_metadata(metadata))


__all__ = [
    "CompatibilityReport",
    "Verdict",
    "check_compatibility",
    "connect",
    "contract_allowed",
    "database_status",
    "deploy",
    "mark_release_stable",
    "schema_compatibility",
    "upgrade_phase",
]
