"""The sync trigger's shape: two triggers running one STABLE function.

UPDATE (its WHEN clause skips the backfill) and INSERT (no WHEN clause: the backfill only
updates, and PostgreSQL prepares a trigger's WHEN clause for every statement that fires it).
The function is STABLE (no new snapshot per statement on every app write), yet a direction may
call a volatile function of the user's that writes.
"""

from __future__ import annotations

import pytest

from expandcontract.backfill.spec import BACKFILL_SESSION_FLAG

SCENE = """
op.execute("CREATE TABLE t (id bigserial PRIMARY KEY, a text, b text)")
op.execute("CREATE TABLE seen (value text)")
op.execute("CREATE FUNCTION note_b(v text) RETURNS text LANGUAGE plpgsql VOLATILE AS "
           "$$ BEGIN INSERT INTO seen VALUES (v); RETURN upper(v); END $$")
"""

# Each call of the direction leaves a row in ``seen``: calls are counted by their outcome.
SYNC = (
    'op.expand_sync_trigger("t_sync", "t", old_columns=["a"], new_columns=["b"], '
    'forward=Direction({"b": "note_b(NEW.a)"}))'
)

TRIGGERS = (
    "SELECT tgname, tgtype & 4 > 0 AS on_insert, tgtype & 16 > 0 AS on_update, "
    "tgqual IS NOT NULL AS has_when, tgfoid::regproc::text FROM pg_trigger "
    "WHERE tgrelid = 't'::regclass AND NOT tgisinternal ORDER BY tgname"
)


def _drop_revision(project) -> None:
    project.revision(
        "drop_sync", "contract", 'op.contract_drop_sync_trigger("t_sync", "t")', depends_on=["sync"]
    )


def test_inserts_have_a_trigger_without_when_and_updates_one_that_skips_the_backfill(
    project,
) -> None:
    """Both run one STABLE function; note_b, the user's volatile helper, still writes."""
    project.revision("scene", "expand", SCENE)
    project.revision("sync", "expand", SYNC)
    _drop_revision(project)
    project.upgrade("expand@head")
    assert project.scalar("SELECT provolatile FROM pg_proc WHERE proname = 't_sync_fn'") == "s"
    assert project.rows(TRIGGERS) == [
        ("t_sync", False, True, True, "t_sync_fn"),
        ("t_sync_insert", True, False, False, "t_sync_fn"),
    ]
    with project.engine().begin() as connection:  # flagged as the backfill's session
        connection.exec_driver_sql(f"SET LOCAL {BACKFILL_SESSION_FLAG} = 'on'")
        connection.exec_driver_sql("INSERT INTO t (a) VALUES ('inserted')")
        connection.exec_driver_sql("UPDATE t SET a = 'skipped' WHERE a = 'inserted'")
    # The insert was converted (the backfill never inserts), through note_b, which writes; the
    # flagged update was not.
    assert project.rows("SELECT a, b FROM t") == [("skipped", "INSERTED")]
    project.sql("UPDATE t SET a = 'updated'")
    assert project.rows("SELECT a, b FROM t") == [("updated", "UPDATED")]
    assert project.rows("SELECT value FROM seen") == [("inserted",), ("updated",)]

    project.upgrade("contract@head")
    assert project.rows(TRIGGERS) == []
    assert not project.scalar("SELECT count(*) FROM pg_proc WHERE proname = 't_sync_fn'")
    project.sql("INSERT INTO t (a) VALUES ('after contract')")
    assert project.scalar("SELECT b FROM t WHERE a = 'after contract'") is None


def test_a_single_trigger_of_an_earlier_version_is_replaced_not_doubled(project) -> None:
    """An earlier version installed one INSERT OR UPDATE trigger; applying the expand with this
    version leaves each insert calling the function once, and the contract drops everything."""
    earlier = (
        "op.execute('CREATE FUNCTION t_sync_fn() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.b := note_b(NEW.a); RETURN NEW; END $$')\n"
        "op.execute('CREATE TRIGGER t_sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW "
        "EXECUTE FUNCTION t_sync_fn()')"
    )
    project.revision("scene", "expand", SCENE + earlier)
    # Applied in a later run than the scene: the policing cannot see into note_b, and the
    # sync function of the earlier version is replaced (as a user re-applying it would declare).
    exemptions = (
        "expandcontract_exemptions = {'function_call': 'note_b only records calls', "
        "'replace_function': 'the earlier sync function, replaced by its new form'}\n"
    )
    project.revision("sync", "expand", SYNC, extra=exemptions)
    _drop_revision(project)
    project.upgrade("scene")
    assert [row[:3] for row in project.rows(TRIGGERS)] == [("t_sync", True, True)]
    project.upgrade("expand@head")
    assert [row[:3] for row in project.rows(TRIGGERS)] == [
        ("t_sync", False, True),
        ("t_sync_insert", True, False),
    ]
    project.sql("INSERT INTO t (a) VALUES ('once')")
    assert project.rows("SELECT value FROM seen") == [("once",)]
    assert project.scalar("SELECT b FROM t WHERE a = 'once'") == "ONCE"
    project.upgrade("contract@head")
    assert project.rows(TRIGGERS) == []


def test_a_trigger_of_the_users_with_the_insert_halfs_name_is_not_replaced(project) -> None:
    from expandcontract.ops import OperationError

    project.revision("scene", "expand", SCENE)
    project.upgrade("scene")
    project.sql(
        "CREATE FUNCTION mine() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.b := 'mine'; RETURN NEW; END $$"
    )
    project.sql(
        "CREATE TRIGGER t_sync_insert BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION mine()"
    )
    project.revision("sync", "expand", SYNC)
    with pytest.raises(OperationError, match="already has a trigger named 't_sync_insert'"):
        project.upgrade("expand@head")
    assert project.rows(TRIGGERS) == [("t_sync_insert", True, False, False, "mine")]
    project.sql("INSERT INTO t (a) VALUES ('x')")
    assert project.scalar("SELECT b FROM t") == "mine"


def test_a_name_that_leaves_no_room_for_the_insert_half_is_refused(project) -> None:
    from expandcontract.ops import OperationError

    name = "s" * 56 + "_insert"  # 63 bytes: its INSERT half would truncate to the same name
    project.revision("scene", "expand", SCENE)
    project.revision("sync", "expand", SYNC.replace('"t_sync"', f'"{name}"'))
    with pytest.raises(OperationError, match="leaves no room for its INSERT trigger"):
        project.upgrade("expand@head")
    assert project.rows(TRIGGERS) == []
