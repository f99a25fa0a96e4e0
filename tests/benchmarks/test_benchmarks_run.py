"""The benchmark scripts still run end to end (tiny sizes: this checks they work, not their figures).

The figures themselves are never asserted here: the machines are shared and noisy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "script, args, table_line",
    [
        (
            "backfill_throughput.py",
            ["--rows", "2000", "--inserts", "20", "--rounds", "2"],
            "migrate@head (batched)",
        ),
        ("lock_stall.py", ["--hold", "0.5"], "expandcontract"),
    ],
)
def test_benchmark_prints_its_table(
    pg_server_url: str, script: str, args: list[str], table_line: str
) -> None:
    done = run(script, "--database-url", pg_server_url, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert table_line in done.stdout
    assert "Traceback" not in done.stdout


def test_the_backfill_benchmark_prints_every_round(pg_server_url: str) -> None:
    done = run(
        "backfill_throughput.py",
        *("--database-url", pg_server_url, "--rows", "1000", "--inserts", "10", "--rounds", "3"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [x for x in done.stdout.splitlines() if "each round:" in x and "batch" in x]
    assert len(line.split("x the article")[0].split(",")) == 3  # three ratios, one a round


@pytest.mark.parametrize("rows", ["abc", "1000,", "0", "-5"])
def test_bad_row_counts_are_a_clear_error(rows: str) -> None:
    done = run("backfill_throughput.py", "--rows", rows)
    assert done.returncode == 2
    assert "expected comma-separated positive row counts" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "option, value", [("--rounds", "0"), ("--inserts", "0"), ("--inserts", "x")]
)
def test_bad_rounds_and_insert_counts_are_a_clear_error(option: str, value: str) -> None:
    done = run("backfill_throughput.py", option, value)
    assert done.returncode == 2
    assert f"argument {option}: expected a whole number of at least 1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("script", ["backfill_throughput.py", "lock_stall.py"])
def test_a_server_that_is_not_there_is_a_clear_error(script: str) -> None:
    done = run(script, "--database-url", "postgresql://postgres@127.0.0.1:1/postgres")
    assert done.returncode == 1
    assert f"{script}: cannot reach 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr
