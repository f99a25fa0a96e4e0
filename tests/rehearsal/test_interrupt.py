"""Ctrl-C and SIGTERM, at any moment, stop everything the rehearsal started and remove what it
created: processes, the embedded server and its data directory, the work directory, the
scratch database on a real server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if text in line and "ps -eo" not in line]


@pytest.fixture
def temp() -> Iterator[Path]:
    """The run's own TMPDIR, so leftovers can be counted. Outside pytest's folder: the
    embedded server runs as another user, and a pytest session starting elsewhere resets
    that folder to owner-only."""
    folder = Path(tempfile.mkdtemp(prefix="ec-interrupt-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Runs started by a test; killed and closed even when the test fails half-way."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _start(
    tmp_path: Path, temp: Path, processes: list[subprocess.Popen[str]], *args: str
) -> subprocess.Popen[str]:
    """The CLI in its own process, with ``temp`` as its TMPDIR."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from expandcontract.cli import main; main()", "rehearse",
         "--report", str(tmp_path / "r.html"), *SMALL, "--step-seconds", "5", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    processes.append(process)
    return process


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError("the run ended before " + repr(marker) + ":\n" + "".join(seen))


def _nothing_left(temp: Path, started: list[int]) -> None:
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if _alive(pid)], "release processes outlived the run"
    # runtime-<uid> is pgserver's machine-wide lock folder (platformdirs' fallback when
    # XDG_RUNTIME_DIR is unset), shared by every run, not something a run leaves behind.
    left = sorted(p.name for p in temp.iterdir() if not p.name.startswith("runtime-"))
    assert left == [], "left in the temp folder"
    assert _processes_mentioning(str(temp)) == [], "a server of the run is still running"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_story_removes_the_scratch_database(
    pg_server_url, tmp_path, temp, processes, signum
):
    process = _start(tmp_path, temp, processes, "--database-url", pg_server_url)
    seen = _read_until(process, "v1 live")
    started = [pid for pid in _children(process.pid) if _alive(pid)]
    assert started, "no release process was running: " + "".join(seen)

    process.send_signal(signum)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 128 + signum, "".join(seen) + rest
    assert "everything the rehearsal started was stopped and removed" in rest
    _nothing_left(temp, started)
    assert scratch_name("".join(seen)) not in scratch_databases(pg_server_url)
    assert not (tmp_path / "r.html").exists()


def test_sigterm_stops_the_embedded_server_and_removes_its_files(tmp_path, temp, processes):
    process = _start(tmp_path, temp, processes)
    seen = _read_until(process, "v1 live")
    started = [pid for pid in _children(process.pid) if _alive(pid)]
    (data,) = [p for p in temp.iterdir() if p.name.startswith("expandcontract-pg-")]
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    assert _alive(postmaster)
    started.append(postmaster)  # the server daemonises: not a child of the run

    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 143, "".join(seen) + rest
    assert "stopped and removed" in rest
    _nothing_left(temp, started)


def test_ctrl_c_while_the_embedded_server_starts_leaves_nothing(tmp_path, temp, processes):
    process = _start(tmp_path, temp, processes)
    seen = _read_until(process, "starting an embedded PostgreSQL")
    process.send_signal(signal.SIGINT)  # initdb / pg_ctl are running now
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 130, "".join(seen) + rest
    assert "everything the rehearsal started was stopped and removed" in rest
    _nothing_left(temp, [])
