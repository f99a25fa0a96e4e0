"""A row trigger that returns NULL makes the running release's writes vanish.

Creating one in expand or migrate (or replacing the function one runs) on a table the app
writes is destructive: policing refuses it unless the revision carries a reasoned exemption,
and the server-side guard refuses it from psql. Judged by outcome: after the refusal the
app's INSERT, UPDATE or DELETE still takes effect. A trigger that provably returns the row,
like the library's own sync trigger, still runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from expandcontract import api
from expandcontract.errors import PhaseViolation
from expandcontract.phases import Phase


def trigger_sql(
    body: str, events: str = "INSERT OR UPDATE OR DELETE", table: str = "customers"
) -> str:
    return (
        "CREATE FUNCTION app_guard_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        f"BEGIN\n{body}\nEND\n$fn$;\n"
        f"CREATE TRIGGER app_guard BEFORE {events} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION app_guard_fn()"
    )


# name -> (function body, trigger events, the app's write, does the write survive it?)
VANISHING = {
    "RETURN NULL on insert": ("RETURN NULL;", "INSERT", "insert"),
    "RETURN NULL on some rows": (
        "IF NEW.city IS NULL THEN RETURN NULL; END IF;\nRETURN NEW;",
        "INSERT",
        "insert",
    ),
    "RETURN OLD on update": ("RETURN OLD;", "UPDATE", "update"),
    "RETURN NEW on delete": ("RETURN NEW;", "DELETE", "delete"),
    "NEW replaced": ("NEW := NULL;\nRETURN NEW;", "INSERT", "insert"),
    "NULL in an exception handler": (
        "BEGIN PERFORM 1 / 0; EXCEPTION WHEN others THEN RETURN NULL; END;\nRETURN NEW;",
        "INSERT",
        "insert",
    ),
    "TG_OP branch that misses UPDATE": (
        "IF TG_OP = 'INSERT' THEN RETURN NEW; END IF;\nRETURN OLD;",
        "INSERT OR UPDATE OR DELETE",
        "update",
    ),
}

APP_WRITES = {
    "insert": (
        "INSERT INTO customers (address) VALUES ('2 Elm St, Shelbyville')",
        "SELECT count(*) = 1 FROM customers WHERE address = '2 Elm St, Shelbyville'",
    ),
    "update": (
        "UPDATE customers SET city = 'Springfield' WHERE address LIKE '1 Main%'",
        "SELECT city = 'Springfield' FROM customers WHERE address LIKE '1 Main%'",
    ),
    "delete": (
        "DELETE FROM customers WHERE address LIKE '1 Main%'",
        "SELECT count(*) = 0 FROM customers WHERE address LIKE '1 Main%'",
    ),
}


@pytest.fixture
def expanded(expanded: Any) -> Any:
    """The shared project after expand and migrate, with one customer."""
    expanded.sql("INSERT INTO customers (address) VALUES ('1 Main St, Springfield')")
    return expanded


def _app_write_survives(project: Any, write: str) -> bool:
    statement, check = APP_WRITES[write]
    project.sql(statement)
    return bool(project.sql(check)[0][0])


def _exempt(path: Any, kind: str, reason: str = "checked by hand: it never skips a row") -> None:
    path.write_text(path.read_text() + f"\nexpandcontract_exemptions = {{{kind!r}: {reason!r}}}\n")


@pytest.mark.parametrize("phase", ["expand", "migrate"])
@pytest.mark.parametrize("case", sorted(VANISHING))
def test_a_trigger_that_can_discard_writes_is_refused(expanded: Any, case: str, phase: str) -> None:
    body, events, write = VANISHING[case]
    down, labels, deps = ("e1", None, None) if phase == "expand" else ("m1", None, "e1")
    expanded.write(
        "x1", down=down, labels=labels, deps=deps, up=f"op.execute({trigger_sql(body, events)!r})"
    )
    with pytest.raises(PhaseViolation, match="trigger_returns_null"):
        api.upgrade_phase(expanded.config(), Phase(phase))
    assert expanded.sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'app_guard'")[0][0] == 0
    assert _app_write_survives(expanded, write)


def test_replacing_the_function_of_a_live_trigger_with_one_that_returns_null_is_refused(
    expanded: Any,
) -> None:
    expanded.write("x1", down="e1", up=f"op.execute({trigger_sql('RETURN NEW;', 'INSERT')!r})")
    api.upgrade_phase(expanded.config(), Phase.EXPAND)  # returns the row: fine
    replace = (
        "CREATE OR REPLACE FUNCTION app_guard_fn() RETURNS trigger LANGUAGE plpgsql AS "
        "$fn$ BEGIN RETURN NULL; END $fn$"
    )
    # Even an exemption for replacing a live function does not cover what the new body does.
    _exempt(expanded.write("x2", down="x1", up=f"op.execute({replace!r})"), "replace_function")
    with pytest.raises(PhaseViolation, match="trigger_returns_null"):
        api.upgrade_phase(expanded.config(), Phase.EXPAND)
    assert _app_write_survives(expanded, "insert")


def test_a_reasoned_exemption_lets_the_trigger_in(expanded: Any) -> None:
    _exempt(
        expanded.write(
            "x1", down="e1", up=f"op.execute({trigger_sql('RETURN NULL;', 'DELETE')!r})"
        ),
        "trigger_returns_null",
        "rows of customers are never deleted any more: the app archives them",
    )
    api.upgrade_phase(expanded.config(), Phase.EXPAND)  # the server-side guard approves it too
    assert not _app_write_survives(expanded, "delete")  # as the exemption says


SAFE = {
    "RETURN NEW": ("NEW.city := coalesce(NEW.city, 'unknown');\nRETURN NEW;", "INSERT OR UPDATE"),
    "TG_OP branches": (
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n"
        "-- RETURN NULL; (a comment, not a statement)\nRETURN NEW;",
        "INSERT OR UPDATE OR DELETE",
    ),
    "CASE TG_OP": (
        "CASE TG_OP WHEN 'DELETE' THEN RETURN OLD; ELSE RETURN NEW; END CASE;",
        "INSERT OR UPDATE OR DELETE",
    ),
}


@pytest.mark.parametrize("case", sorted(SAFE))
def test_a_trigger_that_returns_the_row_runs(expanded: Any, case: str) -> None:
    body, events = SAFE[case]
    expanded.write("x1", down="e1", up=f"op.execute({trigger_sql(body, events)!r})")
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    assert expanded.sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'app_guard'")[0][0] == 1
    for write in ("insert", "update", "delete"):
        assert _app_write_survives(expanded, write)


def test_a_trigger_on_a_table_this_run_created_may_return_null(expanded: Any) -> None:
    create = "CREATE TABLE audit_inbox (id serial PRIMARY KEY, note text)"
    up = f"op.execute({create!r})\n    op.execute({trigger_sql('RETURN NULL;', 'INSERT', 'audit_inbox')!r})"
    expanded.write("x1", down="e1", up=up)
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    assert expanded.sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'app_guard'")[0][0] == 1


# -- the server-side guard: the same attacks from psql, where no policing runs ----------------

PSQL_VANISHING = {
    "RETURN NULL": trigger_sql("RETURN NULL;", "INSERT"),
    "NEW replaced": trigger_sql("NEW := NULL; RETURN NEW;", "INSERT"),
    "RETURN NULL in a DO block": (
        "DO $do$ BEGIN EXECUTE $x$"
        + trigger_sql("RETURN NULL;", "INSERT").replace(
            ";\nCREATE TRIGGER", "$x$; EXECUTE $x$CREATE TRIGGER"
        )
        + "$x$; END $do$"
    ),
}


@pytest.mark.parametrize("attack", sorted(PSQL_VANISHING))
def test_psql_cannot_create_a_trigger_that_discards_writes(expanded: Any, attack: str) -> None:
    result = expanded.psql(f"BEGIN;\n{PSQL_VANISHING[attack]};\nCOMMIT;\n")
    assert "the app's writes can vanish" in result.stderr, result.stderr
    assert expanded.sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'app_guard'")[0][0] == 0
    assert _app_write_survives(expanded, "insert")


def test_psql_cannot_replace_a_live_trigger_function_with_one_that_returns_null(
    expanded: Any,
) -> None:
    created = expanded.psql(f"\\set ON_ERROR_STOP on\n{trigger_sql('RETURN NEW;', 'INSERT')};\n")
    assert created.returncode == 0, created.stderr  # returns the row: the server lets it in
    result = expanded.psql(
        "CREATE OR REPLACE FUNCTION app_guard_fn() RETURNS trigger LANGUAGE plpgsql AS "
        "$fn$ BEGIN RETURN NULL; END $fn$;\n"
    )
    assert "the app's writes can vanish" in result.stderr, result.stderr
    assert _app_write_survives(expanded, "insert")


def _reference_migration() -> Any:
    path = Path(__file__).resolve().parents[2] / "alembic" / "versions" / "0002_split_address.py"
    spec = importlib.util.spec_from_file_location("reference_0002_split_address", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_split_still_installs_its_sync_trigger(expanded: Any) -> None:
    """The library's own sync trigger (SplitColumn with the reference migration's rules) passes
    policing and the server-side check, and fills the new columns from the app's writes."""
    reference = _reference_migration()
    create = "CREATE TABLE people (id serial PRIMARY KEY, address text)"
    expanded.write("x1", down="e1", up=f"op.execute({create!r})")
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    expanded.sql("INSERT INTO people (address) VALUES ('1 Main St, Springfield, IL, 62701')")
    split = (
        "SplitColumn('people', 'address', {'street_address': 'varchar(255)', "
        "'city': 'varchar(100)', 'state': 'varchar(2)', 'zip_code': 'varchar(10)'}, "
        f"parse={reference.PARSE!r}, compose={reference.COMPOSE!r}, name='people_address', "
        f"helpers=[{reference.REJECT_REASON!r}]).expand(op)"
    )
    imports = (
        "from expandcontract.ops.functions import SqlFunction\n    "
        "from expandcontract.ops.patterns import SplitColumn"
    )
    expanded.write("x2", down="x1", up=f"{imports}\n    {split}")
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    expanded.sql("INSERT INTO people (address) VALUES ('9 Oak Ave, Ogdenville, or, 97001')")
    assert expanded.sql(
        "SELECT street_address, city, state, zip_code FROM people WHERE id = 2"
    ) == [("9 Oak Ave", "Ogdenville", "OR", "97001")]
    expanded.sql(
        "INSERT INTO people (street_address, city, state, zip_code) "
        "VALUES ('5 Elm St', 'Shelbyville', 'IL', '62565')"
    )
    assert expanded.sql("SELECT address FROM people WHERE id = 3") == [
        ("5 Elm St, Shelbyville, IL, 62565",)
    ]
    # The server-side check (used when no policing runs, e.g. psql) accepts it as well: both
    # halves (UPDATE and INSERT) of the trigger.
    verdicts = expanded.sql(
        "SELECT tgname, expandcontract.guard_row_trigger(tgfoid, tgtype) FROM pg_trigger "
        "WHERE tgrelid = 'people'::regclass AND NOT tgisinternal ORDER BY tgname"
    )
    assert verdicts == [("people_address_sync", None), ("people_address_sync_insert", None)]
    command.downgrade(expanded.config(), "x1")  # and reverting it takes away what it added
    assert expanded.sql("SELECT count(*) FROM people")[0][0] == 3
