"""The reference history itself: lint-clean, phase-shaped, and reversible without losing data."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner

from expandcontract.api import mark_release_stable
from expandcontract.cli import main
from tests.app.conftest import REPO


def test_expandcontract_check_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        main,
        ["check", "-c", str(REPO / "alembic.ini"), "--format", "json",
         "--metadata", "blue=app.models_v1:metadata", "--metadata", "green=app.models_v2:metadata"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["findings"] == []


def test_offline_sql_of_the_contract_carries_the_guard_block(
    alembic_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    command.upgrade(alembic_config, "heads", sql=True)
    sql = capsys.readouterr().out
    assert "ALTER TABLE customers DROP COLUMN IF EXISTS address" in sql
    assert sql.index("contract refused for 0004_contract_address") < sql.index("DROP COLUMN")


def test_downgrading_the_contract_restores_the_flat_address(
    upgrade, alembic_config: Config, db
) -> None:
    upgrade("0001_customers")
    db(
        "INSERT INTO customers (name, email, address) VALUES ('A', 'a@example.test', '1 Main St, Apt 4, Boise, id, 83702')"
    )
    upgrade("migrate@head")
    mark_release_stable(alembic_config, "green", soak="0s")
    upgrade("contract@head")
    command.downgrade(alembic_config, "contract@base")
    [row] = db("SELECT address, street_address, state FROM customers")
    assert row == {
        "address": "1 Main St, Apt 4, Boise, ID, 83702",
        "street_address": "1 Main St, Apt 4",
        "state": "ID",
    }


def test_the_sync_trigger_leaves_the_backfills_own_updates_alone(upgrade, engine) -> None:
    """A batch of the backfill sets its session flag; the trigger must not convert twice."""
    import sqlalchemy as sa

    from expandcontract.backfill.spec import BACKFILL_SESSION_FLAG

    upgrade("expand@head")
    flat = "1 Main St, Boise, ID, 83702"
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO customers (name, email, address) VALUES ('A', 'a@x.test', :a)"),
            {"a": flat},
        )
    with engine.begin() as conn:  # the backfill's session: the old value stays as it was
        conn.execute(sa.text(f"SET LOCAL {BACKFILL_SESSION_FLAG} = 'on'"))
        conn.execute(sa.text("UPDATE customers SET city = 'Nampa'"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT address FROM customers")).scalar() == flat
    with engine.begin() as conn:  # green's session: the old column follows the new ones
        conn.execute(sa.text("UPDATE customers SET city = 'Meridian'"))
    with engine.connect() as conn:
        address = conn.execute(sa.text("SELECT address FROM customers")).scalar()
    assert address == "1 Main St, Meridian, ID, 83702"


def test_the_backfills_own_updates_do_not_even_call_the_trigger_function(upgrade, engine) -> None:
    """The UPDATE trigger's WHEN clause skips them: no PL/pgSQL call per row of a batch.

    Inserts have a trigger of their own without that clause (the backfill never inserts), so
    an insert calls the function whatever the session says.
    """
    import sqlalchemy as sa

    from expandcontract.backfill.spec import BACKFILL_SESSION_FLAG

    upgrade("expand@head")
    calls = sa.text(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
        "WHERE funcname = 'customers_address_sync_fn'"
    )
    insert = sa.text(
        "INSERT INTO customers (name, email, address) "
        "VALUES ('A', :e, '1 Main St, Boise, ID, 83702')"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"e": "first@x.test"})
        conn.execute(insert, {"e": "second@x.test"})
    with engine.connect() as conn:
        conn.execute(sa.text("SET track_functions = 'pl'"))
        conn.commit()
        with conn.begin():  # counts of this backend not flushed yet, so compare with the start
            before = conn.execute(calls).scalar()
            conn.execute(sa.text(f"SET LOCAL {BACKFILL_SESSION_FLAG} = 'on'"))
            conn.execute(sa.text("UPDATE customers SET city = 'Nampa'"))
            assert conn.execute(calls).scalar() == before
            conn.execute(insert, {"e": "inserted-while-flagged@x.test"})
            assert conn.execute(calls).scalar() == before + 1
            # An application's update calls it, once per row.
            conn.execute(sa.text(f"SET LOCAL {BACKFILL_SESSION_FLAG} = 'off'"))
            conn.execute(sa.text("UPDATE customers SET city = 'Meridian'"))
            assert conn.execute(calls).scalar() == before + 4
