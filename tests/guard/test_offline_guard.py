"""Offline ``--sql`` scripts re-check the guard when they run, with the real psql client."""

from __future__ import annotations

import io
from typing import Any

import pytest
from alembic import command

from expandcontract import api
from expandcontract.errors import PhaseViolation
from expandcontract.phases import Phase

# A contract with an autocommit step before the DROP COLUMN: the script COMMITs in the middle.
INDEXED = {
    "e1": dict(
        labels=("expand",),
        up="""op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.Text),
        sa.Column("city", sa.Text),
    )
    op.create_index("ix_customers_address", "customers", ["address"])""",
        down_body='op.drop_table("customers")',
    ),
    "c1": dict(
        labels=("contract",),
        deps=("e1", "m1"),
        up="""op.contract_drop_index("ix_customers_address", "customers")
    op.drop_column("customers", "address")""",
        down_body='op.add_column("customers", sa.Column("address", sa.Text))',
    ),
}


def offline_script(project: Any, target: str = "heads") -> str:
    buffer = io.StringIO()
    config = project.config()
    config.output_buffer = buffer
    command.upgrade(config, target, sql=True)
    return buffer.getvalue()


def table_exists(project: Any, name: str) -> bool:
    return project.sql("SELECT to_regclass(:n) IS NOT NULL", n=name)[0][0]


def test_script_contains_the_guard_block_and_stops_on_error(project: Any) -> None:
    script = offline_script(project)
    assert "\\set ON_ERROR_STOP on" in script
    assert "DO $expandcontract$" in script
    assert "contract refused for c1" in script
    assert "%%" not in script  # RAISE placeholders must survive unescaped
    assert script.index("SET LOCAL lock_timeout = 1000") < script.index("CREATE TABLE customers")


@pytest.mark.parametrize("flags", [(), ("-1",)], ids=["psql defaults", "psql -1"])
def test_script_refuses_on_a_database_with_no_stable_mark(project: Any, flags) -> None:
    result = project.psql(offline_script(project), *flags)
    assert result.returncode != 0
    assert "no release has been marked stable" in result.stderr
    assert not table_exists(project, "customers")  # the whole script rolled back


def contract_script_after_expand(project: Any) -> str:
    for rev, spec in INDEXED.items():
        project.write(rev, **spec)
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    return offline_script(project, "m1:c1")


@pytest.mark.parametrize("flags", [(), ("-1",)], ids=["psql defaults", "psql -1"])
def test_an_autocommit_step_does_not_carry_the_script_past_a_refusal(project: Any, flags) -> None:
    script = contract_script_after_expand(project)
    assert script.count("COMMIT") >= 2  # the drop-index step runs outside a transaction
    result = project.psql(script, *flags)
    assert result.returncode != 0
    assert "address" in project.columns()
    assert table_exists(project, "ix_customers_address")
    assert ("contract_applied", "c1") not in project.ledger_events()


def test_script_refuses_during_the_soak(project: Any) -> None:
    script = contract_script_after_expand(project)
    api.mark_release_stable(project.config(), "green", soak="24h")
    result = project.psql(script)
    assert result.returncode != 0
    assert "is soaking" in result.stderr
    assert "address" in project.columns()


def test_script_runs_once_the_soak_has_passed(project: Any) -> None:
    script = contract_script_after_expand(project)
    api.mark_release_stable(project.config(), "green", soak="0s")
    result = project.psql(script)
    assert result.returncode == 0, result.stderr
    assert "address" not in project.columns()
    assert not table_exists(project, "ix_customers_address")
    assert ("contract_applied", "c1") in project.ledger_events()
    # The script's approval ended with it: psql on its own cannot drop anything now.
    assert project.sql("SELECT count(*) FROM expandcontract.approvals")[0][0] == 0


def test_a_full_script_is_refused_even_with_a_mark(project: Any) -> None:
    api.mark_release_stable(project.config(), "green", soak="0s")
    # The mark predates e1 and m1: no release ever ran on the expanded schema.
    result = project.psql(offline_script(project))
    assert result.returncode != 0
    assert "dependencies_applied" in result.stderr
    assert not table_exists(project, "customers")


# -- exempted statements in expand and migrate, offline -----------------------------------------

EXEMPT_DROP_INDEX = '\nexpandcontract_exemptions = {"drop_index": "ix_city was never used by any query"}\n'


def expand_script_with_an_exempted_drop(project: Any) -> str:
    """e1 applied with an index; e2 drops it with a reasoned exemption, rendered with --sql."""
    api.upgrade_phase(project.config(), Phase.EXPAND)
    project.write("e1b", down="e1", up='op.create_index("ix_city", "customers", ["city"])')
    api.upgrade_phase(project.config(), Phase.EXPAND)
    path = project.write("e2", down="e1b", up='op.drop_index("ix_city", table_name="customers")')
    path.write_text(path.read_text() + EXEMPT_DROP_INDEX)
    return offline_script(project, "e1b:e2")


@pytest.mark.parametrize("flags", [(), ("-1",)], ids=["psql defaults", "psql -1"])
def test_an_exempted_statement_runs_from_the_offline_script(project: Any, flags) -> None:
    script = expand_script_with_an_exempted_drop(project)
    result = project.psql(script, *flags)
    assert result.returncode == 0, result.stderr
    assert not table_exists(project, "ix_city")
    assert project.sql("SELECT version_num FROM alembic_version")[0][0] == "e2"
    assert ("phase_applied", "e2") in project.ledger_events()
    # The approvals ended with the script.
    assert project.sql("SELECT count(*) FROM expandcontract.approvals")[0][0] == 0


def test_the_approval_covers_that_statement_and_no_other(project: Any) -> None:
    script = expand_script_with_an_exempted_drop(project)
    # Someone adds a statement to the approved script: it has no approval of its own.
    tampered = script.replace(
        "DROP INDEX ix_city;", "DROP INDEX ix_city;\n\nALTER TABLE customers DROP COLUMN city;"
    )
    assert tampered != script
    result = project.psql(tampered)
    assert result.returncode != 0
    assert "refused" in result.stderr
    assert "city" in project.columns()
    assert table_exists(project, "ix_city")  # the whole script rolled back
    # Or edits the approved statement itself.
    edited = script.replace("DROP INDEX ix_city;", "DROP INDEX ix_city CASCADE;")
    assert "refused" in project.psql(edited).stderr
    assert table_exists(project, "ix_city")


def test_a_destructive_statement_nobody_exempted_is_not_rendered(project: Any) -> None:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    project.write("e2", down="e1", up='op.drop_column("customers", "city")')
    with pytest.raises(PhaseViolation, match="DROP COLUMN"):
        offline_script(project, "e1:e2")
    assert "city" in project.columns()


@pytest.mark.parametrize("flags", [(), ("-1",)], ids=["psql defaults", "psql -1"])
def test_an_offline_downgrade_removes_what_its_upgrade_added(project: Any, flags) -> None:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    project.write(
        "e2",
        down="e1",
        up='op.add_column("customers", sa.Column("zip", sa.Text))',
        down_body='op.drop_column("customers", "zip")',
    )
    api.upgrade_phase(project.config(), Phase.EXPAND)
    buffer = io.StringIO()
    config = project.config()
    config.output_buffer = buffer
    command.downgrade(config, "e2:e1", sql=True)
    result = project.psql(buffer.getvalue(), *flags)
    assert result.returncode == 0, result.stderr
    assert "zip" not in project.columns()
    assert project.sql("SELECT version_num FROM alembic_version")[0][0] == "e1"
