"""Lock stall: how long does the app wait while a migration meets a long transaction?

Another session holds a transaction on ``accounts`` for 5 seconds (an app connection left idle
in transaction). Meanwhile a client queries ``accounts`` every 10 ms, and an expand revision
adds a column, three times, side by side in one run:

- plain Alembic (``op.add_column``, no lock_timeout): the ALTER queues behind the blocker and
  the client's reads queue behind the ALTER;
- pgroll-style: ``lock_timeout`` 500 ms, retried with backoff, no look at the lock table first;
- expandcontract defaults: wait outside the lock queue until nothing conflicting is held, then
  an escalating ``lock_timeout`` from 100 ms (runtime/ddl.py).

Prints, for each: the longest and the 99th-percentile client wait, the number of queries, how
long the migration needed after the blocker ended, and whether it completed. Target:
expandcontract's longest wait <= 150 ms, and it completes.

    python benchmarks/lock_stall.py [--database-url URL] [--hold 5]

The URL names a server; scratch databases are created on it and dropped afterwards. Without a
URL (and without $EXPANDCONTRACT_TEST_DATABASE_URL / $DATABASE_URL) an embedded server is used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from expandcontract.config import Settings
from expandcontract.embedded import embedded_postgres
from expandcontract.errors import ExpandContractError
from expandcontract.rehearsal.database import scratch_database

OURS_ENV = """\
from alembic import context
import expandcontract

expandcontract.run_migrations(context)
"""

PLAIN_ENV = """\
from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(context.config.attributes["url"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

REVISION = """\
import sqlalchemy as sa
from alembic import op

revision = "add_note"
down_revision = None
branch_labels = ("expand",)
depends_on = None


def upgrade():
    {call}


def downgrade():
    pass
"""

PLAIN_CALL = 'op.add_column("accounts", sa.Column("note", sa.Text()))'
OURS_CALL = 'op.expand_add_column("accounts", "note", sa.Text())'

# label -> (env.py, the revision's call, settings); None settings: plain Alembic.
CASES: dict[str, tuple[str, str, Settings | None]] = {
    "plain alembic": (PLAIN_ENV, PLAIN_CALL, None),
    "pgroll-style 500 ms": (
        OURS_ENV,
        OURS_CALL,
        Settings(
            lock_timeout=timedelta(milliseconds=500),
            lock_timeout_start=timedelta(milliseconds=500),
            lock_retries=100,
            wait_for_blockers=False,
        ),
    ),
    "expandcontract": (OURS_ENV, OURS_CALL, Settings()),
}


@dataclass
class Result:
    waits: list[float] = field(default_factory=list)
    migration_seconds: float = 0.0
    after_blocker: float = 0.0
    completed: bool = False
    error: str | None = None


def prepare(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint)")
        conn.exec_driver_sql(
            "INSERT INTO accounts SELECT i, i * 10 FROM generate_series(1, 10000) AS i"
        )
    engine.dispose()


def blocker(url: str, hold: float, holding: threading.Event, ended: list[float]) -> None:
    """A session that read ``accounts`` and keeps its transaction open for ``hold`` seconds."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM accounts")
        holding.set()
        time.sleep(hold)
        conn.rollback()
        ended.append(time.perf_counter())
    engine.dispose()


def client(url: str, stop: threading.Event, waits: list[float]) -> None:
    """The app: one short read every 10 ms, each timed."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        i = 0
        while not stop.is_set():
            i += 1
            started = time.perf_counter()
            conn.execute(
                sa.text("SELECT balance FROM accounts WHERE id = :i"), {"i": i % 10000 + 1}
            )
            conn.commit()
            waits.append(time.perf_counter() - started)
            time.sleep(0.01)
    engine.dispose()


def run_case(server_url: str, label: str, hold: float) -> Result:
    env, call, settings = CASES[label]
    result = Result()
    with scratch_database(server_url) as scratch, tempfile.TemporaryDirectory() as tmp:
        url = scratch.url
        prepare(url)
        folder = Path(tmp) / "migrations"
        (folder / "versions").mkdir(parents=True)
        (folder / "env.py").write_text(env)
        (folder / "versions" / "add_note.py").write_text(REVISION.format(call=call))
        config = Config()
        config.set_main_option("script_location", str(folder))
        config.attributes["url"] = url
        config.attributes["expandcontract.database_url"] = url
        if settings is not None:
            config.attributes["expandcontract.settings"] = settings

        holding, stop = threading.Event(), threading.Event()
        ended: list[float] = []
        hold_thread = threading.Thread(target=blocker, args=(url, hold, holding, ended))
        client_thread = threading.Thread(target=client, args=(url, stop, result.waits))
        hold_thread.start()
        holding.wait()
        client_thread.start()
        time.sleep(0.2)  # the client's steady state before the migration starts
        started = time.perf_counter()
        try:
            command.upgrade(config, "heads")
            result.completed = True
        except Exception as err:  # report it, the other case still runs
            result.error = f"{type(err).__name__}: {err}"
        finished = time.perf_counter()
        result.migration_seconds = finished - started
        hold_thread.join()
        result.after_blocker = max(0.0, finished - ended[0]) if ended else float("nan")
        time.sleep(0.3)
        stop.set()
        client_thread.join()
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            has_column = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.columns "
                    "WHERE table_name = 'accounts' AND column_name = 'note'"
                )
            ).scalar()
        engine.dispose()
        result.completed = result.completed and bool(has_column)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EXPANDCONTRACT_TEST_DATABASE_URL")
        or os.environ.get("DATABASE_URL"),
    )
    parser.add_argument("--hold", type=float, default=5.0, help="blocker transaction, seconds")
    args = parser.parse_args()
    load = os.getloadavg()
    with contextlib.ExitStack() as stack:
        server = args.database_url or stack.enter_context(embedded_postgres())
        results = {label: run_case(server, label, args.hold) for label in CASES}
    print(
        f"lock stall: another session holds a {args.hold:g} s transaction on accounts; "
        "a client reads every 10 ms; an expand adds a column "
        f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
    )
    print(
        f"{'':20} {'longest wait':>13} {'p99 wait':>9} {'queries':>8} {'migration':>10} "
        f"{'after blocker':>14}  completed"
    )
    for label, result in results.items():
        waits = sorted(result.waits)
        p99 = waits[int(0.99 * (len(waits) - 1))] if waits else float("nan")
        print(
            f"{label:20} {max(waits, default=float('nan')) * 1000:>10.0f} ms "
            f"{p99 * 1000:>6.0f} ms {len(waits):>8} {result.migration_seconds:>8.2f} s "
            f"{result.after_blocker * 1000:>11.0f} ms  "
            f"{'yes' if result.completed else 'NO: ' + (result.error or 'column missing')}"
        )
    ours = results["expandcontract"]
    longest = max(ours.waits, default=float("inf"))
    verdict = "met" if longest <= 0.150 and ours.completed else "MISSED"
    print(
        f"target: expandcontract longest wait <= 150 ms and the migration completes: {verdict} "
        f"(median wait {statistics.median(ours.waits) * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    try:
        main()
    except ExpandContractError as err:  # no server there, a URL that is not PostgreSQL, ...
        sys.exit(f"lock_stall.py: {err}")
