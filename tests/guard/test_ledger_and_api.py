"""The ledger, the public API and the small parsers the CLI relies on."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import expandcontract
from expandcontract.durations import parse_duration, parse_timestamp
from expandcontract.errors import ConfigurationError
from expandcontract.hook import _exclude_own_tables
from expandcontract.ledger import Event, Ledger


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("P1D", timedelta(days=1)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("250ms", timedelta(milliseconds=250)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "24", "h", "P", "PT", "-3d", "1y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot parse duration"):
        parse_duration(text)


def test_timestamps_are_utc() -> None:
    assert parse_timestamp("2026-11-26T10:00:00+02:00") == datetime(2026, 11, 26, 8, tzinfo=UTC)
    assert parse_timestamp("2026-11-26T10:00:00Z") == datetime(2026, 11, 26, 10, tzinfo=UTC)
    with pytest.raises(ConfigurationError, match="has no UTC offset"):
        parse_timestamp("2026-11-26T10:00:00")
    with pytest.raises(ConfigurationError, match="cannot parse timestamp"):
        parse_timestamp("tomorrow")


def test_ledger_is_append_only(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        ledger = Ledger(conn)
        ledger.ensure()
        entry = ledger.record(Event.RELEASE_DEPLOYED, release="green", details={"image": "x:1"})
    assert entry.recorded_at.tzinfo is not None
    for statement in (
        "UPDATE expandcontract.expandcontract_ledger SET release = 'blue'",
        "DELETE FROM expandcontract.expandcontract_ledger",
        "TRUNCATE expandcontract.expandcontract_ledger",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert [e.release for e in Ledger(conn).entries()] == ["green"]


def test_ledger_is_kept_out_of_autogenerate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        Ledger(conn).ensure()
        conn.execute(sa.text("CREATE TABLE orders (id int primary key)"))
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _exclude_own_tables(None)}
        )
        diff = compare_metadata(context, sa.MetaData())
    removed = {entry[1].name for entry in diff if entry[0] == "remove_table"}
    assert removed == {"orders"}


def test_compatibility_check(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city", sa.Text),
    )
    sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id int primary key, region text NOT NULL)"))
    with engine.connect() as conn:
        report = expandcontract.check_compatibility(conn, metadata)
    assert not report.compatible
    assert report.missing_tables == ["orders"]
    assert report.missing_columns == ["customers.city"]
    assert report.blocking_columns == ["customers.region"]
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE orders (id int primary key)"))
        conn.execute(sa.text("ALTER TABLE customers ADD COLUMN city text"))
        conn.execute(sa.text("ALTER TABLE customers ALTER COLUMN region SET DEFAULT 'eu'"))
    with engine.connect() as conn:
        assert expandcontract.check_compatibility(conn, metadata).compatible


def test_public_api_imports_neither_flask_nor_boto3() -> None:
    code = (
        "import sys, expandcontract\n"
        "expandcontract.check_compatibility, expandcontract.contract_allowed\n"
        "expandcontract.run_migrations\n"
        "assert 'flask' not in sys.modules and 'boto3' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_metadata_module_that_raises_is_a_clear_error(tmp_path, monkeypatch) -> None:
    from expandcontract.usage import load_metadata

    (tmp_path / "models_broken.py").write_text("raise RuntimeError('no DATABASE_URL here')\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="RuntimeError: no DATABASE_URL here"):
        load_metadata("models_broken:metadata")


def test_the_ledger_works_on_sqlite(tmp_path) -> None:
    from datetime import timedelta

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'dev.db'}")
    with engine.begin() as conn:
        ledger = Ledger(conn)
        ledger.ensure()
        ledger.ensure()
        ledger.record(Event.PHASE_APPLIED, revision="e1", phase="expand")
        mark = ledger.record_stable("green", soak=timedelta(0))
    with engine.connect() as conn:
        ledger = Ledger(conn)
        assert ledger.latest_stable() == mark
        assert ledger.last_applied("e1") is not None
        assert ledger.now() >= mark.stable_at
        assert ledger.writers() == []
    engine.dispose()
