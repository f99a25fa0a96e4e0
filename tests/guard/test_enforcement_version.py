"""The server-side guard knows its version and the hook upgrades an old or tampered install.

The version is a fingerprint of what the guard is made of (its functions' source, which
function each event trigger runs): computed from this library's DDL (expected) and from the
catalog (installed). An older install, or a function body replaced by hand, reads as another
version: ``status`` shows both, and the next run through the hook re-installs. Judged by
outcome: an attack the current version refuses gets through the old one, and is refused
again after the hook ran.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from expandcontract import api
from expandcontract.enforcement import enforcement_status, expected_version, installed_version
from expandcontract.errors import ContractRefused
from expandcontract.phases import Phase
from tests.guard.test_cli import run

# What an install from before the row-trigger check looked like, as far as this attack goes:
# guard_end without it (here: without anything).
OLD_GUARD_END = (
    "SELECT expandcontract.approve_session('simulating an install by an older expandcontract');\n"
    "CREATE OR REPLACE FUNCTION expandcontract.guard_end() RETURNS event_trigger "
    "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS "
    "$fn$ BEGIN RETURN; END $fn$;\n"
)
VANISHING_TRIGGER = (
    "BEGIN;\n"
    "CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN RETURN NULL; END $fn$;\n"
    "CREATE TRIGGER swallow BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION swallow();\n"
    "COMMIT;\n"
)


@pytest.fixture
def expanded(project: Any) -> Any:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    return project


def status(project: Any) -> Any:
    engine = project.engine()
    try:
        with engine.connect() as conn:
            return enforcement_status(conn)
    finally:
        engine.dispose()


def swallow_trigger_exists(project: Any) -> bool:
    return bool(project.sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'swallow'")[0][0])


def test_the_hook_installs_the_expected_version(expanded: Any) -> None:
    installed = status(expanded)
    assert installed.enabled and installed.current
    assert installed.installed == expected_version()
    assert json.loads(run(expanded, "status", "--format", "json").output)["server_guard"] == (
        "on (event trigger)"
    )


def test_an_old_install_is_upgraded_by_the_next_run(
    expanded: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    downgraded = expanded.psql("\\set ON_ERROR_STOP on\n" + OLD_GUARD_END)
    assert downgraded.returncode == 0, downgraded.stderr
    old = status(expanded)
    assert old.enabled and not old.current
    report = json.loads(run(expanded, "status", "--format", "json").output)
    assert old.installed in report["server_guard"]
    assert expected_version() in report["server_guard"]
    # The old version lets the attack through ...
    expanded.psql(VANISHING_TRIGGER)
    assert swallow_trigger_exists(expanded)
    expanded.psql(
        "SELECT expandcontract.approve_session('clean up');\n"
        "DROP TRIGGER swallow ON customers;\nDROP FUNCTION swallow();\n"
    )
    assert not swallow_trigger_exists(expanded)

    capfd.readouterr()
    api.upgrade_phase(expanded.config(), Phase.EXPAND)  # nothing pending: the hook still runs
    said = capfd.readouterr().err
    assert f"upgraded from version {old.installed} to {expected_version()}" in said
    assert status(expanded).current
    # ... the upgraded one refuses it, and the app's inserts keep landing.
    result = expanded.psql(VANISHING_TRIGGER)
    assert "the app's writes can vanish" in result.stderr
    assert not swallow_trigger_exists(expanded)
    expanded.sql("INSERT INTO customers (address) VALUES ('1 Main St, Springfield')")
    assert expanded.sql("SELECT count(*) FROM customers")[0][0] == 1
    # The upgrade's own approval was withdrawn.
    upgrade_approvals = expanded.sql(
        "SELECT count(*) FROM expandcontract.approvals "
        "WHERE reason = 'upgrading the server-side guard'"
    )
    assert upgrade_approvals[0][0] == 0


def test_a_dropped_event_trigger_is_put_back(expanded: Any) -> None:
    expanded.sql("DROP EVENT TRIGGER expandcontract_guard_end")
    gone = status(expanded)
    assert not gone.enabled and not gone.current
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    back = status(expanded)
    assert back.enabled and back.current


def test_the_version_is_read_from_what_is_installed(expanded: Any) -> None:
    engine = expanded.engine()
    with engine.connect() as conn:
        before = installed_version(conn)
    engine.dispose()
    # A whitespace change in one function body is a different install.
    expanded.psql(
        "SELECT expandcontract.approve_session('test');\n"
        "DO $do$ BEGIN EXECUTE replace(pg_get_functiondef('expandcontract.guard_refuse(text)'"
        "::regprocedure), 'BEGIN', 'BEGIN '); END $do$;\n"
    )
    engine = expanded.engine()
    with engine.connect() as conn:
        assert installed_version(conn) not in (None, before)
    engine.dispose()


def test_a_role_that_may_not_upgrade_is_told_and_the_old_guard_stays(
    project: Any, role: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """The migration role owns the project but is no superuser; a superuser installed the
    server-side guard once, in an older version. The hook cannot upgrade it: it says so, names
    the role and what is needed, keeps the old copy (nothing half-replaced), and the run and
    the client-side guard go on."""
    import sqlalchemy as sa

    from expandcontract import enforcement
    from tests.guard.conftest import role_url

    database = sa.engine.make_url(project.database_url).database
    project.sql(f'ALTER DATABASE "{database}" OWNER TO {role}')
    project.sql(f"ALTER SCHEMA public OWNER TO {role}")
    config = project.config()
    config.attributes["expandcontract.database_url"] = role_url(project, role)
    api.upgrade_phase(config, Phase.EXPAND)  # the role's own ledger; no event trigger yet
    engine = project.engine()  # the superuser installs the guard, then it ages
    with engine.begin() as conn:
        assert enforcement.install(conn).enabled
    engine.dispose()
    aged = project.psql("\\set ON_ERROR_STOP on\n" + OLD_GUARD_END)
    assert aged.returncode == 0, aged.stderr
    old = status(project)
    assert old.enabled and not old.current

    capfd.readouterr()
    api.upgrade_phase(config, Phase.MIGRATE)
    said = capfd.readouterr().err
    assert f"role {role} may not upgrade it" in said
    assert old.installed in said and expected_version() in said
    kept = status(project)
    assert kept.enabled and kept.installed == old.installed  # the old copy, whole
    with pytest.raises(ContractRefused):  # the client-side guard still holds
        api.upgrade_phase(config, Phase.CONTRACT)
    assert "address" in project.columns()
