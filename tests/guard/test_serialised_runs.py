"""Only one migration run at a time: the advisory lock serialises concurrent runners."""

from __future__ import annotations

import os
import subprocess
import sys
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
