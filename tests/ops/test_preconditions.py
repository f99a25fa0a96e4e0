"""Operations check the live database before acting, and refuse with a clear message."""

from __future__ import annotations

import pytest

from expandcontract.errors import PreconditionFailed

SCENE = """
op.execute("CREATE TABLE t (id bigserial PRIMARY KEY, a text, b text)")
op.execute("INSERT INTO t (a) VALUES ('x'), ('y'), ('x')")
"""

BACKFILL = """
FILL_B = RunBackfill("fill_b", "t", {"b": "upper(t.a)"}, pending="t.b IS NULL AND t.a IS NOT NULL")
"""


@pytest.mark.parametrize("reference", ["FILL_B", "'fill_b'"], ids=["definition", "name"])
def test_contract_waits_for_the_backfill(make_project, reference: str) -> None:
    project = make_project("p", preamble=BACKFILL)
    project.revision("scene", "expand", SCENE)
    project.revision("fill", "migrate", "op.invoke(FILL_B)", depends_on=["scene"])
    project.revision(
        "drop_a",
        "contract",
        f'op.contract_drop_column("t", "a", after_backfill={reference})',
        depends_on=["scene"],
    )
    with pytest.raises(PreconditionFailed, match="backfill 'fill_b' of t is not complete"):
        project.upgrade("contract@head")
    assert "a" in project.columns("t")
    project.upgrade("migrate@head")
    project.upgrade("contract@head")
    assert project.columns("t") == ["id", "b"]


def test_the_contract_converts_a_write_that_arrived_after_the_backfill(make_project) -> None:
    """Running the migrate phase again would do nothing (it is applied): the contract's own
    check runs the backfill once more, then goes ahead."""
    project = make_project("p", preamble=BACKFILL)
    project.revision("scene", "expand", SCENE)
    project.revision("fill", "migrate", "op.invoke(FILL_B)", depends_on=["scene"])
    project.revision(
        "drop_a",
        "contract",
        'op.contract_drop_column("t", "a", after_backfill=FILL_B)',
        depends_on=["fill"],
    )
    project.upgrade("migrate@head")
    assert project.rows("SELECT DISTINCT b FROM t ORDER BY b") == [("X",), ("Y",)]
    project.sql("INSERT INTO t (a) VALUES ('late')")  # no trigger converts it
    project.upgrade("contract@head")
    assert project.columns("t") == ["id", "b"]
    assert project.rows("SELECT DISTINCT b FROM t ORDER BY b") == [("LATE",), ("X",), ("Y",)]


def test_dropping_a_missing_sync_trigger_is_refused(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision(
        "drop_sync",
        "contract",
        'op.contract_drop_sync_trigger("t_sync", "t")',
        depends_on=["scene"],
    )
    with pytest.raises(PreconditionFailed, match="trigger t_sync does not exist on t"):
        project.upgrade("heads")


def test_dropping_a_missing_column_is_refused(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision(
        "drop_z", "contract", 'op.contract_drop_column("t", "z")', depends_on=["scene"]
    )
    with pytest.raises(PreconditionFailed, match="column t.z does not exist"):
        project.upgrade("heads")


def test_dropping_a_referenced_table_is_refused(project) -> None:
    project.revision(
        "scene",
        "expand",
        SCENE
        + '\nop.execute("CREATE TABLE u (id int PRIMARY KEY, t_id bigint REFERENCES t (id))")',
    )
    project.revision("drop_t", "contract", 'op.contract_drop_table("t")', depends_on=["scene"])
    with pytest.raises(PreconditionFailed, match="still referenced by foreign keys u.u_t_id_fkey"):
        project.upgrade("heads")
    assert project.exists("t")


def test_set_not_null_refuses_while_nulls_remain(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision("nn", "contract", 'op.contract_set_not_null("t", "b")', depends_on=["scene"])
    with pytest.raises(PreconditionFailed, match="3 row"):
        project.upgrade("heads")
    assert not project.not_null("t", "b")


def test_an_invalid_leftover_index_is_rebuilt(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision("uq", "expand", 'op.expand_create_index("ix_t_a", "t", ["a"], unique=True)')
    project.upgrade("scene")
    # A concurrent build that failed half-way (duplicates) leaves an INVALID index behind.
    engine = project.engine().execution_options(isolation_level="AUTOCOMMIT")
    with pytest.raises(Exception, match="could not create unique index"), engine.connect() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX CONCURRENTLY ix_t_a ON t (a)")
    assert (
        project.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_t_a'::regclass")
        is False
    )
    project.sql("DELETE FROM t WHERE id = 3")
    project.upgrade("heads")
    assert (
        project.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_t_a'::regclass")
        is True
    )
    with pytest.raises(Exception, match="duplicate key"):
        project.sql("INSERT INTO t (a) VALUES ('x')")


def test_not_null_without_default_is_rejected(project) -> None:
    from expandcontract.ops import OperationError

    project.revision("scene", "expand", SCENE)
    project.revision("nn", "expand", 'op.expand_add_column("t", "c", sa.Integer(), nullable=False)')
    with pytest.raises(OperationError, match="NOT NULL without a default"):
        project.upgrade("heads")


def test_a_unique_constraint_over_duplicates_is_refused_clearly(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision("uq", "expand", 'op.expand_add_unique("uq_t_a", "t", ["a"])')
    with pytest.raises(PreconditionFailed, match="cannot build unique index uq_t_a on t: .*dupl"):
        project.upgrade("heads")
    assert not project.has_constraint("t", "uq_t_a")
    project.sql("DELETE FROM t WHERE id = 3")
    project.upgrade("heads")
    assert project.has_constraint("t", "uq_t_a")


def test_a_sync_trigger_with_a_wrong_name_fails_the_migration_not_the_app(project) -> None:
    from expandcontract.ops import OperationError

    project.revision("scene", "expand", SCENE)
    project.revision(
        "sync",
        "expand",
        'op.expand_sync_trigger("t_sync", "t", old_columns=["a"], new_columns=["b"], '
        'forward=Direction({"b": "upper(NEW.aa)"}))',
    )
    with pytest.raises(
        OperationError, match="forward direction does not work on t: column new.aa does not exist"
    ):
        project.upgrade("heads")
    assert not project.has_trigger("t", "t_sync")
    project.sql("INSERT INTO t (a) VALUES ('still writable')")
