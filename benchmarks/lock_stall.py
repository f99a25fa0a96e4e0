"""Lock stall: how long does the app wait while a migration queues behind a long transaction?

Another session holds a transaction on ``accounts`` for 5 seconds (an app connection left idle
in transaction). Meanwhile a client queries ``accounts`` every 10 ms, and an expand revision
adds a column, once with plain Alembic (``op.add_column``) and once through expandcontract
(``op.expand_add_column``, short ``lock_timeout`` and jittered retries). PostgreSQL queues the
client's reads behind the waiting ``ALTER TABLE``, so the longest client wait shows the stall.

Prints, for each: the longest and the 99th-percentile client wait, the number of queries, how long
the migration took and whether it completed. Target: expandcontract <= lock_timeout + 100 ms;
plain Alembic about the blocker's 5 s.

    python benchmarks/lock_stall.py [--database-url URL] [--hold 5] [--lock-timeout 1s]

The URL names a server; scratch databases are created on it and dropped afterwards. Without a
URL (and without $EXPANDCONTRACT_TEST_DATABASE_URL / $DATABASE_URL) an embedded server is used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
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
from expandcontract.durations import parse_duration
from expandcontract.embedded import embedded_postgres
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

CALLS = {
    "plain alembic": 'op.add_column("accounts", sa.Column("note", sa.Text()))',
    "expandcontract": 'op.expand_add_column("accounts", "note", sa.Text())',
}


@dataclass
class Result:
    waits: list[float] = field(default_factory=list)
    migration_seconds: float = 0.0
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


def blocker(url: str, hold: float, holding: threading.Event) -> None:
    """A session that read ``accounts`` and keeps its transaction open for ``hold`` seconds."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM accounts")
        holding.set()
        time.sleep(hold)
        conn.rollback()
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


def run_case(server_url: str, label: str, hold: float, settings: Settings) -> Result:
    result = Result()
    with scratch_database(server_url) as url, tempfile.TemporaryDirectory() as tmp:
        prepare(url)
        folder = Path(tmp) / "migrations"
        (folder / "versions").mkdir(parents=True)
        (folder / "env.py").write_text(PLAIN_ENV if label == "plain alembic" else OURS_ENV)
        (folder / "versions" / "add_note.py").write_text(REVISION.format(call=CALLS[label]))
        config = Config()
        config.set_main_option("script_location", str(folder))
        config.attributes["url"] = url
        config.attributes["expandcontract.database_url"] = url
        config.attributes["expandcontract.settings"] = settings

        holding, stop = threading.Event(), threading.Event()
        hold_thread = threading.Thread(target=blocker, args=(url, hold, holding))
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
        result.migration_seconds = time.perf_counter() - started
        hold_thread.join()
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
    parser.add_argument("--lock-timeout", default="1s")
    parser.add_argument("--lock-retries", type=int, default=8)
    args = parser.parse_args()
    lock_timeout = parse_duration(args.lock_timeout)
    settings = Settings(lock_timeout=lock_timeout, lock_retries=args.lock_retries)
    with contextlib.ExitStack() as stack:
        server = args.database_url or stack.enter_context(embedded_postgres())
        results = {label: run_case(server, label, args.hold, settings) for label in CALLS}
    budget = lock_timeout + timedelta(milliseconds=100)
    print(
        f"lock stall: another session holds a {args.hold:g} s transaction on accounts; "
        "a client reads every 10 ms; an expand adds a column"
    )
    print(
        f"{'':16} {'longest wait':>13} {'p99 wait':>9} {'queries':>8} {'migration':>10}  completed"
    )
    for label, result in results.items():
        waits = sorted(result.waits)
        p99 = waits[int(0.99 * (len(waits) - 1))] if waits else float("nan")
        print(
            f"{label:16} {max(waits, default=float('nan')) * 1000:>10.0f} ms "
            f"{p99 * 1000:>6.0f} ms {len(waits):>8} {result.migration_seconds:>8.2f} s  "
            f"{'yes' if result.completed else 'NO: ' + (result.error or 'column missing')}"
        )
    ours = max(results["expandcontract"].waits, default=float("inf"))
    verdict = "met" if ours <= budget.total_seconds() else "MISSED"
    print(
        f"target: expandcontract longest wait <= lock_timeout + 100 ms = "
        f"{budget.total_seconds() * 1000:.0f} ms: {verdict} "
        f"(median wait {statistics.median(results['expandcontract'].waits) * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
