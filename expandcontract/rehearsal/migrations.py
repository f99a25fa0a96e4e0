"""The reference migrations, driven through the library's API, and what they did."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from expandcontract.config import Settings
from expandcontract.errors import ConfigurationError
from expandcontract.rehearsal.reference import make_reference_importable
from expandcontract.rehearsal.seed import libpq_dsn

# A short lock wait: while a DDL statement waits for its lock, every app query on the table
# queues behind it, so the wait is the longest stall users can see. Retries (jittered) cover a
# long transaction that is in the way.
LOCK_TIMEOUT = timedelta(milliseconds=200)
LOCK_RETRIES = 30


def alembic_config(database_url: str, soak: timedelta) -> Config:
    """The reference project's Alembic config, pointed at ``database_url``."""
    root = make_reference_importable()
    config = Config(str(root / "alembic.ini"))
    # Absolute, so the rehearsal works from any working directory.
    config.set_main_option("script_location", str(root / "alembic"))
    config.set_main_option("prepend_sys_path", str(root))
    config.attributes["expandcontract.database_url"] = database_url
    config.attributes["expandcontract.settings"] = Settings(
        soak=soak, lock_timeout=LOCK_TIMEOUT, lock_retries=LOCK_RETRIES
    )
    return config


def expand_root(config: Config) -> str:
    """The first expand revision: the v1 schema blue was built for."""
    script = ScriptDirectory.from_config(config)
    roots = [
        rev
        for rev in script.walk_revisions()
        if not rev.down_revision and "expand" in rev.branch_labels
    ]
    if len(roots) != 1:
        raise ConfigurationError("the reference migrations need exactly one expand root revision")
    return roots[0].revision


def create_v1_schema(config: Config) -> str:
    """Apply only the expand root (the world before the change); return its revision id."""
    revision = expand_root(config)
    command.upgrade(config, revision)
    return revision


def migration_figures(url: str) -> tuple[int | None, int | None]:
    """Rows the backfills converted and open quarantined rows (None when no backfill ran)."""
    from expandcontract.api import connect
    from expandcontract.backfill import STATE_TABLE, open_quarantine_count

    with connect(url=url) as connection:
        if not connection.execute(sa.text("SELECT to_regclass(:t)"), {"t": STATE_TABLE}).scalar():
            return None, None
        converted = connection.execute(
            sa.text(f"SELECT coalesce(sum(rows_converted), 0) FROM {STATE_TABLE}")
        ).scalar_one()
        return int(converted), open_quarantine_count(connection, "customers")


class LongReport:
    """A reporting query that holds a lock on ``customers`` for ``seconds``.

    Real databases have these (analytics, a pg_dump, an idle-in-transaction session); it is
    what an ``ALTER TABLE`` without a lock timeout queues behind, stalling all traffic.
    """

    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        self.holding = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="rehearsal-report-query")

    def _run(self) -> None:
        try:
            with psycopg.connect(libpq_dsn(self.url), application_name="nightly-report") as conn:
                conn.execute("SELECT count(*) FROM customers")
                self.holding.set()
                conn.execute("SELECT pg_sleep(%s)", (self.seconds,))
        except BaseException as err:  # reported by the story, never raised in a thread
            self.error = err
        finally:
            self.holding.set()

    def __enter__(self) -> LongReport:
        self._thread.start()
        self.holding.wait(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(timeout=self.seconds + 10)
