"""The benchmark scripts still run end to end (tiny sizes: this checks they work, not their figures).

The figures themselves are never asserted here: the machines are shared and noisy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


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
    out = run(script, "--database-url", pg_server_url, *args)
    assert table_line in out
    assert "Traceback" not in out
