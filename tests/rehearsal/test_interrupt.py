"""Ctrl-C stops everything the rehearsal started and removes what it created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.rehearsal.support import SMALL, scratch_databases, scratch_name

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_and_removes_everything(pg_server_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from expandcontract.cli import main; main()", "rehearse",
         "--database-url", pg_server_url, "--report", str(tmp_path / "r.html"), *SMALL,
         "--step-seconds", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # wait until the story runs under load
        seen.append(line)
        if "v1 live" in line:
            break
    started = [pid for pid in _children(process.pid) if _alive(pid)]
    assert started, "no release process was running: " + "".join(seen)

    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 130, "".join(seen) + rest
    assert "interrupted: everything the rehearsal started was stopped and removed" in rest
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if _alive(pid)], "release processes outlived the run"
    assert scratch_name("".join(seen)) not in scratch_databases(pg_server_url)
    assert not (tmp_path / "r.html").exists()
