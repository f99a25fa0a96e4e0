"""Runs one backfill in its own process, so tests can kill it (-9) or send it SIGTERM.

    python backfill_driver.py URL SPEC_JSON [--time-budget S] [--delay S] [--initial-batch N]
                              [--max-batch N]

Prints the report as one JSON line on stdout; a stopped run exits with the error's exit code
and its message on stderr, as the CLI would.
"""

from __future__ import annotations

import argparse
import json
import sys

import sqlalchemy as sa

from expandcontract.backfill import Backfill, run_backfill
from expandcontract.errors import ExpandContractError


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("spec")
    parser.add_argument("--time-budget", type=float, default=0.2)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--initial-batch", type=int, default=1000)
    parser.add_argument("--max-batch", type=int, default=500_000)
    args = parser.parse_args()
    engine = sa.create_engine(args.url, poolclass=sa.pool.NullPool)
    try:
        report = run_backfill(
            engine,
            Backfill(**json.loads(args.spec)),
            time_budget=args.time_budget,
            delay=args.delay,
            initial_batch=args.initial_batch,
            max_batch=args.max_batch,
            progress_interval=0.2,
        )
    except ExpandContractError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(
        json.dumps(
            {
                "rows_converted": report.rows_converted,
                "rows_quarantined": report.rows_quarantined,
                "batches": report.batches,
                "complete": report.complete,
                "resumed_from": report.resumed_from,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
