"""Runtime phase policing through real ``alembic upgrade`` runs.

Every destructive statement kind, executed raw (``op.execute``) inside an expand or a migrate
revision, aborts the run with a PhaseViolation naming the kind and the revision, and leaves the
schema as it was; a reasoned exemption lets it through; an exemption without a reason does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import make_url

from expandcontract.errors import PhaseViolation

SCENE = r"""
op.execute("CREATE SCHEMA s")
op.execute("CREATE TABLE t (id bigserial PRIMARY KEY, a int, b text DEFAULT 'x', c int, CONSTRAINT ck_t CHECK (a > 0))")
op.execute("INSERT INTO t (a, c) VALUES (1, 1), (2, 2)")
op.execute("CREATE TABLE t2 (id int PRIMARY KEY)")
op.execute("GRANT SELECT ON t TO PUBLIC")
op.execute("INSERT INTO t2 VALUES (1)")
op.execute("CREATE INDEX ix_t_a ON t (a)")
op.execute("CREATE VIEW v AS SELECT id, a FROM t")
op.execute("CREATE SEQUENCE seq")
op.execute("CREATE TYPE mood AS ENUM ('ok')")
op.execute("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
op.execute("CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'")
op.execute("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf()")
op.execute("CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'")
"""

# kind -> (statement, SQL that is true while the scene is intact)
DESTRUCTIVE = {
    "drop_column": ("ALTER TABLE t DROP COLUMN c", "SELECT count(c) = 2 FROM t"),
    "drop_table": ("DROP TABLE t2", "SELECT to_regclass('t2') IS NOT NULL"),
    "drop_index": ("DROP INDEX ix_t_a", "SELECT to_regclass('ix_t_a') IS NOT NULL"),
    "drop_trigger": (
        "DROP TRIGGER trg ON t",
        "SELECT count(*) = 1 FROM pg_trigger WHERE tgname = 'trg'",
    ),
    "drop_function": ("DROP FUNCTION f()", "SELECT count(*) = 1 FROM pg_proc WHERE proname = 'f'"),
    "drop_schema": ("DROP SCHEMA s", "SELECT count(*) = 1 FROM pg_namespace WHERE nspname = 's'"),
    "drop_view": ("DROP VIEW v", "SELECT to_regclass('v') IS NOT NULL"),
    "drop_sequence": ("DROP SEQUENCE seq", "SELECT to_regclass('seq') IS NOT NULL"),
    "drop_type": ("DROP TYPE mood", "SELECT to_regtype('mood') IS NOT NULL"),
    "drop_constraint": (
        "ALTER TABLE t DROP CONSTRAINT ck_t",
        "SELECT count(*) = 1 FROM pg_constraint WHERE conname = 'ck_t'",
    ),
    "rename_column": (
        "ALTER TABLE t RENAME COLUMN a TO a2",
        "SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'",
    ),
    "rename_table": ("ALTER TABLE t2 RENAME TO t3", "SELECT to_regclass('t2') IS NOT NULL"),
    "alter_column_type": (
        "ALTER TABLE t ALTER COLUMN a TYPE bigint",
        "SELECT atttypid = 'int4'::regtype FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'",
    ),
    "set_not_null": (
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
        "SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'",
    ),
    "drop_default": (
        "ALTER TABLE t ALTER COLUMN b DROP DEFAULT",
        "SELECT count(*) = 2 FROM pg_attrdef WHERE adrelid = 't'::regclass",
    ),
    "set_schema": ("ALTER TABLE t2 SET SCHEMA s", "SELECT to_regclass('public.t2') IS NOT NULL"),
    "rename_enum_value": (
        "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'",
        "SELECT count(*) = 1 FROM pg_enum WHERE enumlabel = 'ok'",
    ),
    "revoke": (
        "REVOKE SELECT ON t FROM PUBLIC",
        "SELECT has_table_privilege('public', 't', 'SELECT')",
    ),
    "truncate": ("TRUNCATE t2", "SELECT count(*) = 1 FROM t2"),
    "create_rule": (  # the running release's inserts vanish
        "CREATE RULE swallow AS ON INSERT TO t2 DO INSTEAD NOTHING",
        "SELECT count(*) = 0 FROM pg_rules WHERE rulename = 'swallow'",
    ),
    "disable_trigger": (  # a sync trigger switched off stops filling the new columns
        "ALTER TABLE t DISABLE TRIGGER trg",
        "SELECT tgenabled = 'O' FROM pg_trigger WHERE tgname = 'trg'",
    ),
    "sequence_reset": (
        "ALTER SEQUENCE t_id_seq RESTART WITH 1",
        "SELECT last_value = 2 FROM t_id_seq",
    ),
    "replace_function": (
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2'",
        "SELECT f() = 1",
    ),
    "alter_role": ("ALTER ROLE ec_policing_nobody NOLOGIN", "SELECT true"),
    "delete": ("DELETE FROM t2", "SELECT count(*) = 1 FROM t2"),  # no WHERE: a wipe
    "update": ("UPDATE t SET b = NULL", "SELECT count(b) = 2 FROM t"),
    "add_column": (  # NOT NULL without a default: every insert of the running release fails
        "ALTER TABLE t ADD COLUMN d int NOT NULL",
        "SELECT count(*) = 0 FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'd'",
    ),
}


@pytest.fixture(scope="module")
def scene_url(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database with the scene applied, shared by the refusal tests.

    A refused revision rolls back completely, so the scene stays intact from test to test (which
    each test checks); this keeps thirty-odd real upgrades fast.
    """
    server = make_url(pg_server_url)
    name = f"ec_policing_{uuid.uuid4().hex[:10]}"
    janitor = DatabaseJanitor(
        user=server.username or "postgres",
        host=str(server.host or server.query.get("host") or "127.0.0.1"),
        port=server.port or 5432,
        dbname=name,
        password=server.password or None,
    )
    with janitor:
        yield server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def on_scene(scene_url: str, make_project, tmp_path: Path):
    """A project on the shared scene database (the scene revision already applied once)."""
    project = make_project("scene_project", url=scene_url)
    project.revision("scene", "expand", SCENE)
    if project.scalar("SELECT to_regclass('alembic_version') IS NULL"):
        project.upgrade("scene")
    return project


def _revision(project, phase: str, statement: str, exemptions: str = "") -> str:
    if "scene" not in project.heads.values():
        project.revision("scene", "expand", SCENE)
    return project.revision(
        f"{phase}_step",
        phase,
        f"op.execute({statement!r})",
        depends_on=None if phase == "expand" else ["scene"],
        extra=exemptions,
    )


@pytest.mark.parametrize("phase", ["expand", "migrate"])
@pytest.mark.parametrize("kind", sorted(DESTRUCTIVE))
def test_destructive_statement_aborts_the_run(on_scene, phase: str, kind: str) -> None:
    project = on_scene
    statement, intact = DESTRUCTIVE[kind]
    rev = _revision(project, phase, statement)
    with pytest.raises(PhaseViolation) as refused:
        project.upgrade("heads")
    message = str(refused.value)
    assert f"{phase} revision {rev} executed a destructive statement" in message
    assert kind.replace("_", " ").upper() in message
    assert f"expandcontract_exemptions = {{{kind!r}:" in message  # how to declare an exemption
    assert (refused.value.revision, refused.value.phase) == (rev, phase)
    assert project.scalar(intact) is True, "the statement's effect was not rolled back"
    assert project.scalar("SELECT version_num FROM alembic_version") == "scene"


@pytest.mark.parametrize("phase", ["expand", "migrate"])
def test_a_reasoned_exemption_lets_the_statement_through(project, phase: str) -> None:
    exemptions = (
        '\nexpandcontract_exemptions = {"drop_index": "ix_t_a was never used by any release"}\n'
    )
    _revision(project, phase, "DROP INDEX ix_t_a", exemptions)
    project.upgrade("heads")
    assert project.scalar("SELECT to_regclass('ix_t_a')") is None


def test_an_exemption_without_a_reason_is_refused(on_scene) -> None:
    project = on_scene
    _revision(
        project,
        "expand",
        "DROP INDEX ix_t_a",
        '\nexpandcontract_exemptions = {"drop_index": " "}\n',
    )
    with pytest.raises(PhaseViolation, match="the exemption for 'drop_index' needs a reason"):
        project.upgrade("heads")


def test_an_exemption_covers_only_its_kind(on_scene) -> None:
    project = on_scene
    exemptions = '\nexpandcontract_exemptions = {"drop_index": "unused"}\n'
    _revision(project, "expand", "DROP TABLE t2", exemptions)
    with pytest.raises(PhaseViolation, match="DROP TABLE t2"):
        project.upgrade("heads")


def test_alembic_ops_are_policed_too(on_scene) -> None:
    project = on_scene
    project.revision("plain_op", "expand", 'op.drop_column("t", "c")')
    with pytest.raises(PhaseViolation, match="DROP COLUMN t.c"):
        project.upgrade("heads")


def test_destructive_sql_is_expected_in_contract(project) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision(
        "drop_c", "contract", 'op.execute("ALTER TABLE t DROP COLUMN c")', depends_on=["scene"]
    )
    project.upgrade("heads")
    assert "c" not in project.columns("t")


def test_additive_sql_passes_in_expand(project) -> None:
    _revision(project, "expand", "ALTER TABLE t ADD COLUMN d int DEFAULT 0 NOT NULL")
    project.upgrade("heads")
    assert "d" in project.columns("t")


OPAQUE = {
    "do_block": "DO $$ BEGIN EXECUTE 'DROP TABLE t2'; END $$",
    "call": "CALL p()",
    "function_call": "SELECT f()",
}


@pytest.mark.parametrize("kind", sorted(OPAQUE))
def test_what_cannot_be_seen_into_fails_closed(on_scene, kind: str) -> None:
    project = on_scene
    _revision(project, "migrate", OPAQUE[kind])
    with pytest.raises(PhaseViolation, match="nobody can see into") as refused:
        project.upgrade("heads")
    assert f"{kind!r}:" in str(refused.value)
    assert project.scalar("SELECT to_regclass('t2') IS NOT NULL") is True


def test_setval_is_a_sequence_reset(on_scene) -> None:
    project = on_scene
    _revision(project, "migrate", "SELECT setval('t_id_seq', 1)")
    with pytest.raises(PhaseViolation, match="SEQUENCE RESET"):
        project.upgrade("heads")
    assert project.scalar("SELECT last_value = 2 FROM t_id_seq") is True


def test_an_exemption_for_the_named_object_does_not_cover_cascade(on_scene) -> None:
    project = on_scene
    project.revision(
        "typed",
        "expand",
        'op.execute("ALTER TABLE t2 ADD COLUMN m mood")\nop.execute("DROP TYPE mood CASCADE")',
        extra='\nexpandcontract_exemptions = {"drop_type": "mood was never used"}\n',
    )
    with pytest.raises(PhaseViolation, match="CASCADE"):
        project.upgrade("heads")
    assert project.scalar("SELECT to_regtype('mood') IS NOT NULL") is True


def test_statements_in_an_autocommit_block_are_policed(on_scene) -> None:
    project = on_scene
    project.revision(
        "outside_tx",
        "expand",
        "with op.get_context().autocommit_block():\n"
        '    op.execute("DROP INDEX CONCURRENTLY ix_t_a")',
    )
    with pytest.raises(PhaseViolation, match="DROP INDEX"):
        project.upgrade("heads")
    assert project.scalar("SELECT to_regclass('ix_t_a') IS NOT NULL") is True
