"""Offline ``--sql`` scripts carry a guard block that re-checks the ledger when they run."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from expandcontract.ledger import Event, Ledger


def offline_script(project: Any) -> str:
    buffer = io.StringIO()
    config = project.config()
    config.output_buffer = buffer
    command.upgrade(config, "heads", sql=True)
    return buffer.getvalue()


def run_script(database_url: str, script: str) -> None:
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(script)


def table_exists(project: Any, name: str) -> bool:
    engine = project.engine()
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    engine.dispose()
    return found is not None


def seed_ledger(project: Any, stable_at: datetime, soak: timedelta) -> None:
    """The ledger as it would be after expand and migrate ran and green was marked stable."""
    engine = project.engine()
    with engine.begin() as conn:
        ledger = Ledger(conn)
        ledger.ensure()
        ledger.record(Event.PHASE_APPLIED, revision="e1", phase="expand")
        ledger.record(Event.PHASE_APPLIED, revision="m1", phase="migrate")
        ledger.record_stable("green", soak=soak, stable_at=stable_at)
    engine.dispose()


def test_script_contains_the_guard_block(project: Any) -> None:
    script = offline_script(project)
    assert "DO $expandcontract$" in script
    assert "contract refused for c1" in script
    assert "%%" not in script  # RAISE placeholders must survive unescaped
    assert script.index("SET LOCAL lock_timeout = 1000") < script.index("CREATE TABLE customers")


def test_script_refuses_on_a_database_with_no_stable_mark(project: Any) -> None:
    script = offline_script(project)
    with pytest.raises(psycopg.errors.RaiseException, match="no release has been marked stable"):
        run_script(project.database_url, script)
    assert not table_exists(project, "customers")  # the whole script rolled back


def test_script_refuses_during_the_soak(project: Any) -> None:
    seed_ledger(project, datetime.now(UTC), timedelta(hours=24))
    with pytest.raises(psycopg.errors.RaiseException, match="release green is soaking"):
        run_script(project.database_url, offline_script(project))
    assert not table_exists(project, "customers")


def test_script_runs_once_the_soak_has_passed(project: Any) -> None:
    seed_ledger(project, datetime.now(UTC) - timedelta(days=2), timedelta(hours=24))
    run_script(project.database_url, offline_script(project))
    assert table_exists(project, "customers")
    assert "address" not in project.columns()
    assert ("contract_applied", "c1") in project.ledger_events()
