"""Only one migration run at a time: the advisory lock serialises concurrent runners."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expandcontract import api
from expandcontract.errors import MigrationLockTimeout
from expandcontract.phases import Phase
from expandcontract.runtime.locking import LOCK_NAME


def make_expand_slow(project: Any) -> None:
    path = project.versions / "e1.py"
    text = path.read_text().replace(
        "def upgrade():\n", 'def upgrade():\n    op.execute("SELECT pg_sleep(1.5)")\n'
    )
    path.write_text(text)


def test_two_concurrent_upgrades_are_serialised(project: Any) -> None:
    make_expand_slow(project)
    env = {**os.environ, "DATABASE_URL": project.database_url}
    alembic = [sys.executable, "-m", "alembic", "-c", str(project.ini), "upgrade", "expand@head"]
    runners = [
        subprocess.Popen(alembic, cwd=project.root, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for runner in runners:
        _, stderr = runner.communicate(timeout=60)
        assert runner.returncode == 0, stderr
    assert "customers" in {t for t in _tables(project)}
    applied = [e for e in project.ledger_events() if e == ("phase_applied", "e1")]
    assert len(applied) == 1  # the second runner found the work done


def test_a_runner_that_cannot_get_the_lock_gives_up_with_a_clear_message(project: Any) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.expandcontract]\nmigration_lock_timeout = "1s"\n'
    )
    holder = project.engine().connect()
    holder.execute(sa.text("SELECT pg_advisory_lock(hashtext(:n))"), {"n": LOCK_NAME})
    try:
        with pytest.raises(MigrationLockTimeout, match="another migration run has held"):
            api.upgrade_phase(project.config(), Phase.EXPAND)
    finally:
        holder.close()
    api.upgrade_phase(project.config(), Phase.EXPAND)
    assert "customers" in _tables(project)


def _tables(project: Any) -> list[str]:
    engine = project.engine()
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
    engine.dispose()
    return names


HANGS_AT_IMPORT = """
import time
from pathlib import Path

Path({marker!r}).write_text("importing")
time.sleep(600)
"""


@pytest.mark.parametrize(
    "runner",
    [
        ["-m", "alembic", "-c", "{ini}", "upgrade", "heads"],
        ["-c", "from expandcontract.cli import main; main()", "upgrade", "expand", "-c", "{ini}"],
    ],
    ids=["alembic upgrade heads", "expandcontract upgrade expand"],
)
def test_a_revision_that_hangs_at_import_holds_no_lock(project: Any, runner: list[str]) -> None:
    """The revision map is loaded before the migration lock is taken: a run stuck importing a
    revision module holds nothing, so the next run (with the module fixed) is not blocked."""
    (project.root / "pyproject.toml").write_text(
        '[tool.expandcontract]\nmigration_lock_timeout = "5s"\n'
    )
    marker = project.root / "importing.txt"
    hanging = project.write(
        "e2", down="e1", up='op.add_column("customers", sa.Column("zip", sa.Text))'
    )
    fixed = hanging.read_text()
    hanging.write_text(HANGS_AT_IMPORT.format(marker=str(marker)) + fixed)
    # The code under test, whatever else is installed.
    source = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "DATABASE_URL": project.database_url, "PYTHONPATH": path}
    command = [sys.executable, *(part.format(ini=project.ini) for part in runner)]
    stuck = subprocess.Popen(
        command,
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert stuck.poll() is None, stuck.communicate()
            assert time.monotonic() < deadline, "the runner never imported the revision"
            time.sleep(0.05)
        # The stuck runner holds no advisory lock (it may not even be connected).
        locks = project.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        assert locks[0][0] == 0
        # Someone fixes the revision and runs again: not blocked (a 5 s lock timeout).
        hanging.write_text(fixed)
        started = time.monotonic()
        api.upgrade_phase(project.config(), Phase.EXPAND)
        assert time.monotonic() - started < 5
        assert {"zip", "address"} <= project.columns()
        assert stuck.poll() is None  # still stuck importing the old file
    finally:
        stuck.kill()
        stuck.communicate()
