"""Data safety around the contract: quarantine keyed by the table's real identity."""

from __future__ import annotations

from typing import Any

import pytest

from expandcontract import api
from expandcontract.errors import PreconditionFailed
from expandcontract.phases import Phase

SPELLINGS = ["public.cust", "cust"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_open_quarantine_blocks_the_drop_whatever_the_spelling(
    project: Any, spelling: str
) -> None:
    fill = 'RunBackfill("fill_b", "cust", {"b": "t.a::int"}, pending="t.b IS NULL", ' + (
        "reject_reason=\"CASE WHEN t.a !~ '^[0-9]+$' THEN 'not a number' END\")"
    )
    project.write(
        "e1",
        labels=("expand",),
        up='op.execute("CREATE TABLE cust (id serial PRIMARY KEY, a text, b int)")\n'
        "    op.execute(\"INSERT INTO cust (a) VALUES ('1'), ('x')\")",
    )
    project.write(
        "m1",
        labels=("migrate",),
        deps="e1",
        up=f"from expandcontract.ops.backfill import RunBackfill\n    op.invoke({fill})",
    )
    project.write(
        "c1",
        labels=("contract",),
        deps=("e1", "m1"),
        up=f"op.contract_drop_column({spelling!r}, 'a', after_backfill='fill_b')",
    )
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    assert project.sql("SELECT count(*) FROM expandcontract_quarantine")[0][0] == 1
    api.mark_release_stable(project.config(), "green", soak="0s")
    with pytest.raises(PreconditionFailed, match="quarantined"):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "a" in project.columns("cust")


def test_a_contract_interrupted_after_its_autocommit_step_can_run_again(project: Any) -> None:
    project.write(
        "e1",
        labels=("expand",),
        up='op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("address", sa.Text), sa.Column("city", sa.Text))\n'
        '    op.create_index("ix_address", "customers", ["address"])',
    )
    crashing = (
        'op.contract_drop_index("ix_address", "customers")\n'
        '    op.execute("SELECT 1 / 0")  # the runner dies here\n'
        '    op.drop_column("customers", "address")'
    )
    project.write("c1", labels=("contract",), deps=("e1", "m1"), up=crashing)
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    api.mark_release_stable(project.config(), "green", soak="0s")
    with pytest.raises(Exception, match="division by zero"):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert project.sql("SELECT to_regclass('ix_address')")[0][0] is None  # committed early
    assert "address" in project.columns()
    project.write("c1", labels=("contract",), deps=("e1", "m1"), up=crashing.replace("1 / 0", "1"))
    api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" not in project.columns()
    assert ("contract_applied", "c1") in project.ledger_events()
