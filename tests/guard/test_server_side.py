"""The event trigger refuses destructive DDL that did not come through the guard.

Each attack runs against a database where expand and migrate were applied through the hook
(which installed the ledger and the event trigger); the outcome is judged by the schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from expandcontract import api
from expandcontract.enforcement import enforcement_status
from expandcontract.errors import ContractRefused, ExpandContractError
from expandcontract.phases import Phase


@pytest.fixture
def expanded(expanded: Any) -> Any:
    """The shared project after expand and migrate, with one customer."""
    expanded.sql("INSERT INTO customers (address, city) VALUES ('1 Main St, Springfield', NULL)")
    return expanded


def test_status_says_the_server_side_guard_is_on(expanded: Any) -> None:
    engine = expanded.engine()
    with engine.connect() as conn:
        assert enforcement_status(conn).enabled
    engine.dispose()


PSQL_ATTACKS = {
    "drop column": "ALTER TABLE customers DROP COLUMN address",
    "drop table": "DROP TABLE customers CASCADE",
    "rename column": "ALTER TABLE customers RENAME COLUMN address TO addr",
    "rename table": "ALTER TABLE customers RENAME TO clients",
    "type change": "ALTER TABLE customers ALTER COLUMN address TYPE varchar(3) USING left(address, 3)",
    "set not null": "DELETE FROM customers; ALTER TABLE customers ALTER COLUMN city SET NOT NULL",
    "set schema": "CREATE SCHEMA elsewhere; ALTER TABLE customers SET SCHEMA elsewhere",
    "DO block": "DO $$ BEGIN EXECUTE 'ALTER TABLE customers DROP COLUMN address'; END $$",
    "function": (
        "CREATE FUNCTION dropper() RETURNS void LANGUAGE plpgsql AS "
        "$$ BEGIN ALTER TABLE customers DROP COLUMN address; END $$; SELECT dropper()"
    ),
    "rule": "CREATE RULE swallow AS ON INSERT TO customers DO INSTEAD NOTHING",
    "disable ledger trigger": (
        "ALTER TABLE expandcontract.expandcontract_ledger DISABLE TRIGGER ledger_append_only"
    ),
    "drop ledger": "DROP SCHEMA expandcontract CASCADE",
}


@pytest.mark.parametrize("attack", PSQL_ATTACKS)
def test_psql_cannot_change_the_schema_behind_the_guards_back(expanded: Any, attack: str) -> None:
    before = expanded.columns()
    result = expanded.psql(f"BEGIN;\n{PSQL_ATTACKS[attack]};\nCOMMIT;\n")
    assert "refused" in result.stderr
    assert expanded.columns() == before
    assert expanded.sql("SELECT count(*) FROM customers")[0][0] == 1
    assert expanded.sql("SELECT count(*) FROM pg_rules WHERE tablename = 'customers'")[0][0] == 0
    assert expanded.sql("SELECT to_regclass('expandcontract.expandcontract_ledger')")[0][0]
    assert expanded.ledger_events()


def test_additive_ddl_from_psql_still_works(expanded: Any) -> None:
    result = expanded.psql(
        "\\set ON_ERROR_STOP on\nALTER TABLE customers ADD COLUMN zip text;\n"
        "CREATE INDEX ix_zip ON customers (zip);\nALTER TABLE customers ALTER COLUMN city DROP NOT NULL;\n"
    )
    assert result.returncode == 0, result.stderr
    assert "zip" in expanded.columns()


def test_break_glass_approval_is_recorded(expanded: Any) -> None:
    result = expanded.psql(
        "\\set ON_ERROR_STOP on\nSELECT expandcontract.approve_session('incident 7: manual fix');\n"
        "ALTER TABLE customers DROP COLUMN city;\n"
    )
    assert result.returncode == 0, result.stderr
    assert "city" not in expanded.columns()
    assert ("contract_forced", None) in expanded.ledger_events()


def test_a_second_env_py_without_the_hook_cannot_apply_the_contract(expanded: Any) -> None:
    other = expanded.root / "other"
    other.mkdir()
    (other / "env.py").write_text(
        "from alembic import context\n"
        "import sqlalchemy as sa\n"
        "engine = sa.create_engine(context.config.get_main_option('sqlalchemy.url'),\n"
        "                          poolclass=sa.pool.NullPool)\n"
        "try:\n"
        "    with engine.connect() as connection:\n"
        "        context.configure(connection=connection, target_metadata=None)\n"
        "        with context.begin_transaction():\n"
        "            context.run_migrations()\n"
        "finally:\n"
        "    engine.dispose()\n"
    )
    (other / "script.py.mako").write_text("")
    config = Config()
    config.set_main_option("script_location", str(other))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(expanded.versions))
    config.set_main_option("sqlalchemy.url", expanded.database_url.replace("%", "%%"))
    with pytest.raises(sa.exc.DBAPIError, match="refused"):
        command.upgrade(config, "heads")
    assert "address" in expanded.columns()


SNEAKY_EXPAND = {
    "raw DBAPI cursor": (
        "op.get_bind().connection.driver_connection.execute("
        "'ALTER TABLE customers DROP COLUMN address')"
    ),
    "driver_connection cursor": (
        "cur = op.get_bind().connection.driver_connection.cursor()\n"
        "    cur.execute('ALTER TABLE customers DROP COLUMN address')"
    ),
    "second connection from the engine": (
        "with op.get_bind().engine.begin() as other:\n"
        "        other.exec_driver_sql('ALTER TABLE customers DROP COLUMN address')"
    ),
}


@pytest.mark.parametrize("route", SNEAKY_EXPAND)
def test_an_expand_revision_cannot_drop_through_a_side_door(expanded: Any, route: str) -> None:
    expanded.write("e2", down="e1", up=SNEAKY_EXPAND[route])
    with pytest.raises((sa.exc.DBAPIError, ExpandContractError, Exception)) as raised:
        api.upgrade_phase(expanded.config(), Phase.EXPAND)
    assert "refused" in str(raised.value)
    assert "address" in expanded.columns()


def test_without_the_privilege_the_hook_says_so_and_keeps_the_client_guard(
    project: Any, role: str, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.guard.conftest import role_url

    database = sa.engine.make_url(project.database_url).database
    project.sql(f'ALTER DATABASE "{database}" OWNER TO {role}')
    project.sql(f"ALTER SCHEMA public OWNER TO {role}")
    config = project.config()
    config.attributes["expandcontract.database_url"] = role_url(project, role)
    api.upgrade_phase(config, Phase.EXPAND)
    api.upgrade_phase(config, Phase.MIGRATE)
    said = capfd.readouterr().err
    assert f"role {role} may not create event triggers" in said
    assert "rds_superuser" in said
    with pytest.raises(ContractRefused):
        api.upgrade_phase(config, Phase.CONTRACT)
    assert "address" in project.columns()
    engine = project.engine()
    with engine.connect() as conn:
        assert not enforcement_status(conn).enabled
    engine.dispose()
    result = run_status(project, role_url(project, role))
    assert result.exit_code == 0, result.output
    assert "server    guard off" in result.output


def run_status(project: Any, url: str) -> Any:
    from click.testing import CliRunner

    from expandcontract.cli import main

    return CliRunner().invoke(main, ["status", "-c", str(project.ini), "--database-url", url])
