"""Backfill throughput: the batched engine versus one set-based UPDATE, on the same data.

Splits ``address`` ("12 Main St, Springfield, IL 62704") into street, city, state and zip on a
table of N rows (default 1,000,000), once with a single ``UPDATE`` over the whole table and once
with :func:`expandcontract.backfill.run_backfill`, in the same run on identical copies. The
engine runs in a child process so its peak memory is its own; it also runs on a table of
100,000 rows to show that memory does not grow with the table.

Prints: single-statement time / engine time (target >= 0.8), the longest batch transaction
(target <= 250 ms), and the peak RSS of the backfill process (target < 150 MB).

    python benchmarks/backfill_throughput.py [--database-url URL] [--rows N]

The URL names a server; a scratch database is created on it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from expandcontract.backfill import Backfill, run_backfill
from expandcontract.runtime.connect import normalise_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

PART3 = "TRIM(SPLIT_PART(t.address, ',', 3))"
CONVERSION = {
    "street": "TRIM(SPLIT_PART(t.address, ',', 1))",
    "city": "TRIM(SPLIT_PART(t.address, ',', 2))",
    "state": f"SPLIT_PART({PART3}, ' ', 1)",
    "zip": f"SPLIT_PART({PART3}, ' ', 2)",
}
PENDING = "t.street IS NULL AND t.address IS NOT NULL"


def _url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def spec_for(table: str) -> Backfill:
    return Backfill(name=f"bench_{table}", table=table, set_columns=CONVERSION, pending=PENDING)


def make_table(conn: sa.Connection, name: str, rows: int) -> None:
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(
        sa.text(
            f"CREATE TABLE {name} (id bigint PRIMARY KEY, address text, street text, "
            "city text, state varchar(2), zip varchar(10))"
        )
    )
    conn.execute(
        sa.text(
            f"INSERT INTO {name} (id, address) SELECT g, g || ' ' || "
            "(ARRAY['Main St', 'Oak Ave', 'Elm Rd', 'Pine Ln'])[1 + g % 4] || ', ' || "
            "(ARRAY['Springfield', 'Portland', 'Salem', 'Dayton', 'Austin'])[1 + g % 5] || ', ' ||"
            " (ARRAY['IL', 'OR', 'MA', 'OH', 'TX'])[1 + g % 5] || ' ' || lpad((g % 99999)::text, 5,"
            " '0') FROM generate_series(1, :n) AS g"
        ),
        {"n": rows},
    )


def prepare(url: str, tables: dict[str, int]) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name, rows in tables.items():
            make_table(conn, name, rows)
            conn.execute(sa.text(f"VACUUM ANALYZE {name}"))
    engine.dispose()


def checkpoint(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def set_based(url: str, table: str) -> float:
    assignments = ", ".join(f"{c} = {e}" for c, e in CONVERSION.items())
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        t0 = time.monotonic()
        with conn.begin():
            conn.execute(sa.text(f"UPDATE {table} AS t SET {assignments} WHERE {PENDING}"))
        seconds = time.monotonic() - t0
    engine.dispose()
    return seconds


def engine_in_child(url: str, table: str, budget: float) -> dict:
    """Run the engine in a fresh process; returns its report and peak RSS."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            table,
            "--database-url",
            url,
            "--time-budget",
            str(budget),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(url: str, table: str, budget: float) -> None:
    engine = sa.create_engine(url)
    report = run_backfill(engine, spec_for(table), time_budget=budget, progress=False)
    engine.dispose()
    seconds = sorted(report.batch_seconds)
    print(
        json.dumps(
            {
                "elapsed": report.elapsed,
                "rows": report.rows_converted,
                "batches": report.batches,
                "max_batch": report.max_batch_seconds,
                "p95_batch": seconds[int(0.95 * (len(seconds) - 1))] if seconds else 0.0,
                "over_250ms": sum(1 for s in seconds if s > 0.25),
                "final_batch_size": report.final_batch_size,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def identical(url: str, a: str, b: str) -> bool:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = conn.execute(
            sa.text(
                f"SELECT count(*) FROM ((SELECT * FROM {a} EXCEPT SELECT * FROM {b}) UNION ALL "
                f"(SELECT * FROM {b} EXCEPT SELECT * FROM {a})) AS d"
            )
        ).scalar_one()
    engine.dispose()
    return diff == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--time-budget", type=float, default=0.2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.child, args.time_budget)
        return

    server = normalise_url(args.database_url)
    scratch = f"ec_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {scratch}"))
    url = _url(server, scratch)
    try:
        print(f"preparing {args.rows:,} + {args.rows:,} + {args.small_rows:,} rows ...", flush=True)
        prepare(url, {"big_set": args.rows, "big_engine": args.rows, "small": args.small_rows})

        checkpoint(url)
        single = set_based(url, "big_set")
        checkpoint(url)
        big = engine_in_child(url, "big_engine", args.time_budget)
        checkpoint(url)
        small = engine_in_child(url, "small", args.time_budget)
        same = identical(url, "big_set", "big_engine")

        ratio = single / big["elapsed"]
        print(f"rows                                : {args.rows:,}")
        print(
            f"set-based UPDATE                    : {single:.2f} s "
            f"({args.rows / single:,.0f} rows/s)"
        )
        print(
            f"backfill engine                     : {big['elapsed']:.2f} s "
            f"({big['rows'] / big['elapsed']:,.0f} rows/s, {big['batches']} batches, "
            f"last batch size {big['final_batch_size']:,})"
        )
        print(f"single-statement time / engine time : {ratio:.2f}  (target >= 0.8)")
        print(
            f"longest batch transaction           : {1000 * big['max_batch']:.0f} ms "
            f"(p95 {1000 * big['p95_batch']:.0f} ms, {big['over_250ms']} of {big['batches']} over "
            f"250 ms; budget {1000 * args.time_budget:.0f} ms; target <= 250 ms)"
        )
        print(
            f"peak RSS of backfill process        : {big['peak_rss_mb']:.1f} MB at "
            f"{args.rows:,} rows, {small['peak_rss_mb']:.1f} MB at {args.small_rows:,} rows "
            "(target < 150 MB, flat)"
        )
        print(f"tables identical after both         : {'yes' if same else 'NO'}")
        print(
            f"load average (1/5/15 min)           : {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
