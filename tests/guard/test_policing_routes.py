"""Routes around phase policing: import-time SQL, unphased revisions, downgrades, usage."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command

from expandcontract import api
from expandcontract.baseline import write_baseline
from expandcontract.errors import ContractRefused, ExpandContractError, PhaseViolation
from expandcontract.ledger import Event, Ledger
from expandcontract.phases import Phase


def test_sql_at_a_revision_modules_top_level_never_runs(expanded: Any) -> None:
    path = expanded.write("e2", down="e1", up="pass")
    path.write_text(
        path.read_text().replace(
            "def upgrade():",
            'op.execute("ALTER TABLE customers DROP COLUMN address")\n\n\ndef upgrade():',
        )
    )
    with pytest.raises(ExpandContractError, match="when it is imported"):
        command.upgrade(expanded.config(), "expand@head")
    assert "address" in expanded.columns()
    with pytest.raises(AttributeError):  # `op` is not set up yet: nothing can run
        api.upgrade_phase(expanded.config(), Phase.EXPAND)
    assert "address" in expanded.columns()


@pytest.mark.parametrize("labels", [None, ("hotfix",)], ids=["no label", "custom label"])
def test_an_unphased_revision_after_the_baseline_is_policed(expanded: Any, labels: Any) -> None:
    write_baseline(expanded.versions.parent, ["e1"])
    expanded.write("x1", down=None, labels=labels, up='op.drop_column("customers", "address")')
    with pytest.raises(PhaseViolation, match="DROP COLUMN"):
        command.upgrade(expanded.config(), "x1")
    assert "address" in expanded.columns()


def test_a_legacy_revision_is_not_policed(project: Any) -> None:
    project.write("l0", labels=None, up='op.create_table("old", sa.Column("id", sa.Integer))')
    project.write("l1", down="l0", labels=None, up='op.drop_table("old")')
    write_baseline(project.versions.parent, ["l1"])
    command.upgrade(project.config(), "l1")
    assert project.sql("SELECT to_regclass('old')")[0][0] is None


def test_a_downgrade_may_not_drop_what_its_upgrade_did_not_add(expanded: Any) -> None:
    expanded.write(
        "e2",
        down="e1",
        up='op.add_column("customers", sa.Column("zip", sa.Text))',
        down_body='op.drop_column("customers", "zip")\n    op.drop_column("customers", "city")',
    )
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    with pytest.raises(PhaseViolation, match="DROP COLUMN customers.city"):
        command.downgrade(expanded.config(), "e1")
    assert {"zip", "city"} <= expanded.columns()


def test_a_downgrade_removing_only_what_it_added_runs(expanded: Any) -> None:
    expanded.write(
        "e2",
        down="e1",
        up='op.add_column("customers", sa.Column("zip", sa.Text))',
        down_body='op.drop_column("customers", "zip")',
    )
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    command.downgrade(expanded.config(), "e1")
    assert "zip" not in expanded.columns()


def test_before_any_mark_a_deployed_release_keeps_its_columns(expanded: Any) -> None:
    engine = expanded.engine()
    with engine.begin() as conn:
        Ledger(conn).record(Event.RELEASE_DEPLOYED, release="green")
    engine.dispose()
    with pytest.raises(ContractRefused, match="deployed or marked stable"):
        command.downgrade(expanded.config(), "base")
    assert "address" in expanded.columns()


USES_ADDRESS = (
    "import sqlalchemy as sa\n"
    "metadata = sa.MetaData()\n"
    "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
    "         sa.Column('address', sa.Text), sa.Column('city', sa.Text))\n"
)

UNSEEABLE_CONTRACTS = {
    "get_bind": 'op.get_bind().exec_driver_sql("ALTER TABLE customers DROP COLUMN city")',
    "DO block": "op.execute(\"DO $$ BEGIN EXECUTE 'ALTER TABLE customers DROP COLUMN city'; END $$\")",
    "SET NOT NULL": 'op.execute("ALTER TABLE customers ALTER COLUMN city SET NOT NULL")',
    "DROP DEFAULT": 'op.execute("ALTER TABLE customers ALTER COLUMN city DROP DEFAULT")',
    "SET SCHEMA": 'op.execute("CREATE SCHEMA old; ALTER TABLE customers SET SCHEMA old")',
    "DROP SCHEMA CASCADE": 'op.execute("DROP SCHEMA public CASCADE")',
}


@pytest.mark.parametrize("route", UNSEEABLE_CONTRACTS)
def test_the_usage_check_fails_closed(expanded: Any, route: str) -> None:
    (expanded.root / "models_fail_closed.py").write_text(USES_ADDRESS)
    expanded.sql("ALTER TABLE customers ALTER COLUMN city SET DEFAULT 'x'")
    expanded.write("c1", labels=("contract",), deps=("e1", "m1"), up=UNSEEABLE_CONTRACTS[route])
    api.mark_release_stable(
        expanded.config(), "green", soak="0s", metadata="models_fail_closed:metadata"
    )
    with pytest.raises(ContractRefused, match="still uses|cannot be checked"):
        api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    assert {"address", "city"} <= expanded.columns()
    # The override exists, and it is on the record.
    if route == "get_bind":
        api.upgrade_phase(expanded.config(), Phase.CONTRACT, force_reason="checked by hand")
        assert "city" not in expanded.columns()


def test_a_release_without_usage_is_not_judged_on_usage(expanded: Any) -> None:
    expanded.write(
        "c1", labels=("contract",), deps=("e1", "m1"), up=UNSEEABLE_CONTRACTS["get_bind"]
    )
    api.mark_release_stable(expanded.config(), "green", soak="0s")
    api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    assert "city" not in expanded.columns()


def test_errors_are_expandcontract_errors() -> None:
    assert issubclass(PhaseViolation, ExpandContractError)
