"""A ledger no app role can forge (DESIGN §5), judged by whether the contract runs."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from expandcontract import api
from expandcontract.errors import ContractRefused
from expandcontract.ledger import LedgerUnsafe
from expandcontract.phases import Phase
from tests.guard.conftest import role_url

FORGED_MARK = (
    "INSERT INTO {table} (event, release, details) VALUES ('release_stable', 'green', "
    '\'{{"stable_at": "2020-01-01T00:00:00+00:00", "soak_seconds": 0}}\')'
)


def as_role(project: Any, role: str, statement: str) -> None:
    engine = sa.create_engine(role_url(project, role), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_an_app_role_with_every_table_in_public_cannot_write_the_ledger(
    expanded: Any, role: str
) -> None:
    expanded.sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    for table in ("expandcontract.expandcontract_ledger", "expandcontract_ledger"):
        with pytest.raises(sa.exc.DBAPIError):
            as_role(expanded, role, FORGED_MARK.format(table=table))
    with pytest.raises(ContractRefused):
        api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    assert "address" in expanded.columns()


def test_a_schema_named_after_the_role_does_not_shadow_the_ledger(expanded: Any, role: str) -> None:
    database = sa.engine.make_url(expanded.database_url).database
    expanded.sql(f'GRANT CREATE ON DATABASE "{database}" TO {role}')
    as_role(expanded, role, f"CREATE SCHEMA {role}")
    as_role(
        expanded,
        role,
        f"CREATE TABLE {role}.expandcontract_ledger (id bigserial PRIMARY KEY, event text,"
        " recorded_at timestamptz DEFAULT now(), release text, revision text, phase text,"
        " actor text, details jsonb DEFAULT '{}', db_user text)",
    )
    as_role(expanded, role, FORGED_MARK.format(table=f"{role}.expandcontract_ledger"))
    expanded.sql(f"ALTER ROLE postgres SET search_path = {role}, public")
    try:
        with pytest.raises(ContractRefused, match="no release has been marked stable"):
            api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    finally:
        expanded.sql("ALTER ROLE postgres RESET search_path")
    assert "address" in expanded.columns()


def test_the_hook_refuses_to_run_while_another_role_can_write_the_ledger(
    expanded: Any, role: str
) -> None:
    expanded.sql(f"GRANT USAGE ON SCHEMA expandcontract TO {role}")
    expanded.sql(f"GRANT INSERT ON expandcontract.expandcontract_ledger TO {role}")
    with pytest.raises(LedgerUnsafe, match=role):
        api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    assert "address" in expanded.columns()


def test_default_privileges_do_not_hand_the_new_ledger_to_the_app(project: Any, role: str) -> None:
    project.sql(f"ALTER DEFAULT PRIVILEGES GRANT INSERT, UPDATE ON TABLES TO {role}")
    try:
        api.upgrade_phase(project.config(), Phase.EXPAND)
    finally:
        project.sql(f"ALTER DEFAULT PRIVILEGES REVOKE INSERT, UPDATE ON TABLES FROM {role}")
    grants = project.sql(
        "SELECT count(*) FROM information_schema.role_table_grants "
        "WHERE table_schema = 'expandcontract' AND grantee = :r",
        r=role,
    )
    assert grants[0][0] == 0


@pytest.mark.parametrize(
    "attack",
    [
        "TRUNCATE expandcontract.expandcontract_ledger",
        "DELETE FROM expandcontract.expandcontract_ledger",
        "SET session_replication_role = replica; DELETE FROM expandcontract.expandcontract_ledger",
        "ALTER TABLE expandcontract.expandcontract_ledger DISABLE TRIGGER ALL;"
        " DELETE FROM expandcontract.expandcontract_ledger",
        "UPDATE expandcontract.expandcontract_ledger SET recorded_at = '2020-01-01'",
    ],
)
def test_even_the_owner_cannot_rewrite_history(expanded: Any, attack: str) -> None:
    before = expanded.sql("SELECT id, recorded_at FROM expandcontract.expandcontract_ledger")
    result = expanded.psql(f"BEGIN;\n{attack};\nCOMMIT;\n")
    assert "ERROR" in result.stderr
    after = expanded.sql("SELECT id, recorded_at FROM expandcontract.expandcontract_ledger")
    assert after == before


def test_rows_are_stamped_by_the_server(expanded: Any) -> None:
    expanded.sql(
        "INSERT INTO expandcontract.expandcontract_ledger (event, recorded_at, db_user) "
        "VALUES ('release_deployed', '2020-01-01', 'somebody else')"
    )
    [(recorded_at, db_user, now)] = expanded.sql(
        "SELECT recorded_at, db_user, now() FROM expandcontract.expandcontract_ledger "
        "ORDER BY id DESC LIMIT 1"
    )
    assert recorded_at.year == now.year and (now - recorded_at).total_seconds() < 60
    assert db_user == "postgres"


def test_an_old_public_ledger_is_moved_and_its_marks_no_longer_count(project: Any) -> None:
    project.sql(
        "CREATE TABLE public.expandcontract_ledger (id bigserial PRIMARY KEY, event text NOT NULL,"
        " recorded_at timestamptz NOT NULL DEFAULT now(), release text, revision text,"
        " phase text, actor text, details jsonb NOT NULL DEFAULT '{}')"
    )
    project.sql(FORGED_MARK.format(table="public.expandcontract_ledger"))
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    assert ("release_stable", None) in project.ledger_events()
    assert project.sql("SELECT to_regclass('public.expandcontract_ledger_migrated')")[0][0]
    with pytest.raises(ContractRefused, match="copied from the old public ledger"):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" in project.columns()
