"""Backfill throughput of the reference migration, side by side with the article's one-shot UPDATE.

On the reference ``customers`` table (1 % of the addresses are ones the parser rejects), in one
run, at 100,000 and at 1,000,000 rows, on identical copies:

- **article UPDATE**: the article's one-shot ``UPDATE ... SET city = TRIM(SPLIT_PART(address,
  ',', 2)) ...``: one transaction, no validation (bad rows get wrong parts silently);
- **parse UPDATE**: one ``UPDATE`` calling the reference parse (every row validated, rejected
  rows written back unchanged, nothing quarantined);
- **migrate@head**: ``alembic upgrade migrate@head`` of the reference project: short batches,
  every row validated, rejected rows quarantined with their reason, resumable.

Each runs in its own child process, so its peak RSS is its own; autovacuum is off on the two
copies, so the dead rows one variant leaves behind do not start a vacuum during the next. Prints rows/s, the longest
transaction, peak RSS and the ratio to the article's UPDATE; then the per-write cost of the
sync trigger: single-row INSERTs into ``customers`` with and without it, alternating, p50 and p99.

Targets: migrate@head >= 0.6 x the article UPDATE's rows/s on 1M rows; longest batch <= 250 ms;
peak RSS < 150 MB and flat from 100k to 1M; trigger overhead <= 50 us at p50.

The machines it runs on are shared: one figure of one run can be 20 % off (another tenant's
burst, a stall of the whole virtual machine). So everything is measured in ``--rounds`` rounds
(3 by default), each side by side on fresh copies; the table gives each figure's median over the
rounds (peak RSS: the largest), every round's own figures are printed under it, and the verdicts
use the medians.

    python benchmarks/backfill_throughput.py [--database-url URL] [--rows 100000,1000000]
        [--rounds 3] [--inserts 2000]

The URL names a server; scratch databases are created on it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the reference app's migrations import app.*

from expandcontract.errors import ExpandContractError  # noqa: E402
from expandcontract.rehearsal.database import scratch_database  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
COLUMNS = ("street_address", "city", "state", "zip_code")
PENDING = (
    "t.address IS NOT NULL AND num_nonnulls(t.street_address, t.city, t.state, t.zip_code) = 0"
)
ARTICLE = {
    "street_address": "TRIM(SPLIT_PART(t.address, ',', 1))",
    "city": "TRIM(SPLIT_PART(t.address, ',', 2))",
    "state": "TRIM(SPLIT_PART(t.address, ',', 3))",
    "zip_code": "TRIM(SPLIT_PART(t.address, ',', 4))",
}
# Judged and converted in one evaluation of the parse, as the backfill does: a rejected row is
# written back with the values it has.
PARSED = ", ".join(f"CASE WHEN p.reject_reason IS NULL THEN p.{c} ELSE t.{c} END" for c in COLUMNS)
PARSE_UPDATE = (
    f"UPDATE {{table}} AS t SET ({', '.join(COLUMNS)}) = "
    f"(SELECT {PARSED} FROM customers_address_parse(t.address) AS p) WHERE {PENDING}"
)


def alembic_config(url: str) -> Config:
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("script_location", str(REPO / "alembic"))
    config.attributes["expandcontract.database_url"] = url
    return config


def prepare(url: str, rows: int) -> None:
    """The v1 schema with ``rows`` customers, the expand applied, and two plain copies."""
    command.upgrade(alembic_config(url), "0001_customers")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # Every 100th address is one blue accepts and the parser rejects (a state with a
        # digit, a missing zip, a zip of letters); none breaks the article's UPDATE.
        conn.execute(
            sa.text(
                "INSERT INTO customers (name, email, address) SELECT 'Customer ' || g, "
                "'c' || g || '@example.test', CASE WHEN g % 100 = 0 THEN "
                "(ARRAY['1 Loop Rd, Cupertino, C1, 95014', '2 Elm St, Salem, OR', "
                "'3 Oak Ave, Austin, TX, ABCDE'])[1 + g / 100 % 3] ELSE "
                "g || ' ' || (ARRAY['Main St', 'Oak Ave', 'Elm Rd', 'Pine Ln'])[1 + g % 4]"
                " || ', ' || (ARRAY['Springfield', 'Portland', 'Salem', 'Dayton', 'Austin'])"
                "[1 + g % 5] || ', ' || (ARRAY['IL', 'OR', 'MA', 'OH', 'TX'])[1 + g % 5] || ', ' "
                "|| lpad((g % 99999)::text, 5, '0') END FROM generate_series(1, :n) AS g"
            ),
            {"n": rows},
        )
    command.upgrade(alembic_config(url), "expand@head")
    with engine.connect() as conn:
        for copy in ("article_copy", "parse_copy"):
            # Autovacuum off on the copies only: the dead rows an earlier variant leaves in its
            # copy must not start a vacuum that competes with a later variant's run.
            conn.execute(
                sa.text(
                    f"CREATE TABLE {copy} (LIKE customers INCLUDING ALL) "
                    "WITH (autovacuum_enabled = false)"
                )
            )
            conn.execute(
                sa.text(f"INSERT INTO {copy} OVERRIDING SYSTEM VALUE SELECT * FROM customers")
            )
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{copy}', 'id'), max(id)) FROM {copy}"
                )
            )
        for table in ("customers", "article_copy", "parse_copy"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
        conn.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def child(kind: str, url: str) -> None:
    """Run one variant; print its figures as JSON on the last line of stdout."""
    result: dict[str, float] = {}
    started = time.monotonic()
    if kind == "migrate":
        import expandcontract.backfill as backfill_pkg

        original = backfill_pkg.run_backfill

        def recording(*args, **kwargs):  # the batch timings of the real run
            report = original(*args, **kwargs)
            result["max_batch"] = report.max_batch_seconds
            result["batches"] = report.batches
            result["rows"] = report.rows_converted
            result["quarantined"] = report.rows_quarantined
            return report

        backfill_pkg.run_backfill = recording
        command.upgrade(alembic_config(url), "migrate@head")
    else:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            if kind == "article":
                sets = ", ".join(f"{c} = {e}" for c, e in ARTICLE.items())
                sql = f"UPDATE article_copy AS t SET {sets} WHERE {PENDING}"
            else:
                sql = PARSE_UPDATE.format(table="parse_copy")
            result["rows"] = conn.execute(sa.text(sql)).rowcount
        engine.dispose()
    result["elapsed"] = time.monotonic() - started
    result.setdefault("max_batch", result["elapsed"])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(kind: str, url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--database-url", url],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def insert_cost(url: str, samples: int, tag: int) -> tuple[dict[str, list[float]], float | None]:
    """Single-row INSERT round trips into customers (sync trigger) and article_copy (none),
    alternating; and the trigger function's own mean time per call, from the server's
    function statistics (independent of the client and of the machine's load). ``tag`` keeps
    each round's e-mail addresses apart."""
    engine = sa.create_engine(url)
    times: dict[str, list[float]] = {"with trigger": [], "without": []}
    insert = (
        "INSERT INTO {t} (name, email, address) VALUES ('W', :e, '9 Main St, Boise, ID, 83702')"
    )
    with engine.connect() as conn:
        conn.execute(sa.text("SET synchronous_commit = off"))  # time the work, not the fsync
        conn.execute(sa.text("SET track_functions = 'pl'"))
        conn.commit()
        for i in range(20):  # warm up: plan the trigger's statements once for this session
            for table in ("customers", "article_copy"):
                conn.execute(
                    sa.text(insert.format(t=table)), {"e": f"warm{tag}.{i}-{table}@x.test"}
                )
                conn.commit()
        conn.execute(
            sa.text(
                "SELECT pg_stat_reset_single_function_counters("
                "'customers_address_sync_fn'::regproc)"
            )
        )
        conn.commit()
        for i in range(samples):
            for label, table in (("with trigger", "customers"), ("without", "article_copy")):
                started = time.perf_counter()
                conn.execute(
                    sa.text(insert.format(t=table)), {"e": f"w{tag}.{i}-{label}@example.test"}
                )
                conn.commit()
                times[label].append(time.perf_counter() - started)
        conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        conn.commit()
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT calls, total_time FROM pg_stat_user_functions "
                "WHERE funcname = 'customers_address_sync_fn'"
            )
        ).first()
    engine.dispose()
    per_call = row.total_time * 1000 / row.calls if row is not None and row.calls else None
    return times, per_call


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def measure(server: str, rows: int) -> dict[str, dict[str, float]]:
    with scratch_database(server) as scratch:
        url = scratch.url
        print(f"  preparing {rows:,} rows ...", flush=True)
        prepare(url, rows)
        results = {}
        for kind in ("article", "parse", "migrate"):
            results[kind] = run_child(kind, url)
            checkpoint = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with checkpoint.connect() as conn:
                conn.execute(sa.text("CHECKPOINT"))
            checkpoint.dispose()
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            results["check"] = {
                "quarantined": conn.execute(
                    sa.text("SELECT count(*) FROM expandcontract_quarantine")
                ).scalar_one(),
                "left": conn.execute(
                    sa.text(f"SELECT count(*) FROM customers AS t WHERE {PENDING}")
                ).scalar_one(),
                "differ": conn.execute(
                    sa.text(
                        "SELECT count(*) FROM customers c JOIN parse_copy p USING (id) WHERE "
                        "ROW(c.street_address, c.city, c.state, c.zip_code) IS DISTINCT FROM "
                        "ROW(p.street_address, p.city, p.state, p.zip_code)"
                    )
                ).scalar_one(),
            }
        engine.dispose()
        return results


KINDS = {
    "article": "article UPDATE (no validation)",
    "parse": "one UPDATE, reference parse",
    "migrate": "migrate@head (batched)",
}


def summarise(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each variant's figures over the rounds: medians (each ratio taken within its round, side
    by side), the largest peak RSS; the checks from the worst round."""
    summary: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        figures = [r[kind] for r in rounds]
        summary[kind] = {
            "elapsed": statistics.median(f["elapsed"] for f in figures),
            "ratio": statistics.median(
                r["article"]["elapsed"] / r[kind]["elapsed"] for r in rounds
            ),
            "max_batch": statistics.median(f["max_batch"] for f in figures),
            "peak_rss_mb": max(f["peak_rss_mb"] for f in figures),
        }
    migrate = [r["migrate"] for r in rounds]
    summary["migrate"]["batches"] = statistics.median(m["batches"] for m in migrate)
    summary["migrate"]["rows"] = max(m["rows"] for m in migrate)
    summary["check"] = {k: max(r["check"][k] for r in rounds) for k in rounds[0]["check"]}
    return summary


def print_table(
    measured: dict[int, list[dict[str, dict[str, float]]]],
    summaries: dict[int, dict[str, dict[str, float]]],
) -> None:
    print()
    print(
        f"{'rows':>9}  {'variant':32} {'seconds':>8} {'rows/s':>9} {'vs article':>10} "
        f"{'longest txn':>11} {'peak RSS':>9}"
    )
    for rows, rounds in measured.items():
        summary = summaries[rows]
        for kind, label in KINDS.items():
            r = summary[kind]
            print(
                f"{rows:>9,}  {label:32} {r['elapsed']:>8.2f} {rows / r['elapsed']:>9,.0f} "
                f"{r['ratio']:>9.3f}x {r['max_batch'] * 1000:>8.0f} ms "
                f"{r['peak_rss_mb']:>6.1f} MB"
            )
        m, check = summary["migrate"], summary["check"]
        print(
            f"{'':>9}  migrate@head: {m['batches']:.0f} batches, {m['rows']:,.0f} converted, "
            f"{check['quarantined']:,} quarantined, {check['left']:,} left pending (the quarantined), "
            f"{check['differ']} rows differ from the parse UPDATE"
        )
        ratios = ", ".join(
            f"{r['article']['elapsed'] / r['migrate']['elapsed']:.3f}" for r in rounds
        )
        longest = ", ".join(f"{r['migrate']['max_batch'] * 1000:.0f}" for r in rounds)
        print(
            f"{'':>9}  each round: migrate@head {ratios} x the article; longest batch {longest} ms"
        )


def _at_least_one(text: str) -> int | None:
    """``text`` as a whole number of at least 1 (``100_000`` allowed); None if it is not one."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        return None
    return value if value >= 1 else None


def row_counts(text: str) -> list[int]:
    """``--rows``: comma-separated table sizes, each a positive whole number."""
    sizes = [_at_least_one(part) for part in text.split(",")]
    if None in sizes:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive row counts such as 100000,1000000, got {text!r}"
        )
    return [size for size in sizes if size is not None]


def positive(text: str) -> int:
    """``--rounds`` and ``--inserts``: a whole number of at least 1."""
    value = _at_least_one(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rows", type=row_counts, default=row_counts("100000,1000000"))
    parser.add_argument("--rounds", type=positive, default=3)
    parser.add_argument("--inserts", type=positive, default=2000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url)
        return
    sizes = args.rows
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    measured: dict[int, list[dict[str, dict[str, float]]]] = {}
    for rows in sizes:
        measured[rows] = []
        for number in range(1, args.rounds + 1):
            print(f"  round {number} of {args.rounds}, {rows:,} rows ...", flush=True)
            measured[rows].append(measure(args.database_url, rows))
    summaries = {rows: summarise(rounds) for rows, rounds in measured.items()}
    print_table(measured, summaries)

    with scratch_database(args.database_url) as scratch:
        url = scratch.url
        prepare(url, 1000)
        inserts = [insert_cost(url, args.inserts, tag) for tag in range(args.rounds)]
    differences = [
        statistics.median(t["with trigger"]) - statistics.median(t["without"]) for t, _ in inserts
    ]
    middle = sorted(range(len(inserts)), key=differences.__getitem__)[len(inserts) // 2]
    times, per_call = inserts[middle]  # the median round
    p50 = {k: statistics.median(v) * 1e6 for k, v in times.items()}
    p99 = {k: percentile(v, 0.99) * 1e6 for k, v in times.items()}
    trigger_us = p50["with trigger"] - p50["without"]
    print()
    print(f"single-row INSERT round trip ({args.inserts:,} each, alternating; the median round):")
    for label in times:
        print(f"  {label:13} p50 {p50[label]:7.0f} us   p99 {p99[label]:7.0f} us")
    print(f"  difference at p50: {trigger_us:.0f} us (client clock)")
    print(f"  each round: {', '.join(f'{d * 1e6:.0f}' for d in differences)} us")
    if per_call is not None:
        print(f"  sync trigger function's own time, server-side mean per insert: {per_call:.1f} us")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    for line in verdicts(summaries, trigger_us):
        print(line)


def verdicts(summaries: dict[int, dict[str, dict[str, float]]], trigger_us: float) -> list[str]:
    """One line per target: its figure from this run (the median of the rounds), met or not."""
    largest = max(summaries)
    ratio = summaries[largest]["migrate"]["ratio"]
    longest = max(s["migrate"]["max_batch"] for s in summaries.values()) * 1000
    rss = [s["migrate"]["peak_rss_mb"] for s in summaries.values()]
    flat = max(rss) <= min(rss) * 1.1

    def line(target: str, figure: str, met: bool) -> str:
        return f"target: {target}: {'met' if met else 'NOT met'} ({figure})"

    return [
        line(
            f"migrate@head >= 0.6 x the article UPDATE on {largest:,} rows",
            f"{ratio:.3f} x",
            ratio >= 0.6,
        ),
        line("longest batch <= 250 ms", f"{longest:.0f} ms", longest <= 250),
        line(
            "peak RSS < 150 MB and flat across sizes",
            " / ".join(f"{x:.1f} MB" for x in rss),
            max(rss) < 150 and flat,
        ),
        # One decimal: a figure printed as "50 us" must not read as met when it is 50.4.
        line("sync trigger <= 50 us per insert at p50", f"{trigger_us:.1f} us", trigger_us <= 50),
    ]


if __name__ == "__main__":
    try:
        main()
    except ExpandContractError as err:  # no server there, a URL that is not PostgreSQL, ...
        sys.exit(f"backfill_throughput.py: {err}")
