"""One renderer for the guard and the linter: revisions render as under `alembic upgrade --sql`."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from expandcontract.lint.history import read_history
from expandcontract.lint.loader import load_revision
from expandcontract.lint.render import render_statements
from expandcontract.render import Renderer, RenderError, RenderFailed, render_sql

REVISION = """
from alembic import context, op

revision = "c01"
down_revision = None
branch_labels = ("contract",)
depends_on = None


def upgrade({parameters}):
    print("rendering c01")
    if context.is_offline_mode():
        op.drop_column("customers", "address")
    else:
        op.drop_column("customers", "never_offline")


def downgrade():
    pass
"""


def _project(tmp_path: Path, parameters: str = "") -> ScriptDirectory:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text("")
    (versions / "c01.py").write_text(REVISION.format(parameters=parameters))
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    return ScriptDirectory.from_config(config)


def test_guard_and_linter_render_the_same_sql(tmp_path: Path, capsys) -> None:
    script = _project(tmp_path)
    revision = script.get_revision("c01")
    guard_sql = render_sql(revision)
    assert guard_sql.strip() == "ALTER TABLE customers DROP COLUMN address;"
    (node,) = read_history([Path(revision.path)], None).revisions
    module = load_revision(node.path).module
    assert module is not None
    linted = render_statements(Renderer(), "c01", node.path, module, None)
    assert [s.sql for s in linted] == [guard_sql.strip()]
    captured = capsys.readouterr()
    assert captured.out == ""  # what the revision prints goes to stderr
    assert "rendering c01" in captured.err


def test_upgrade_taking_op_renders(tmp_path: Path) -> None:
    revision = _project(tmp_path, "op").get_revision("c01")
    assert "DROP COLUMN address" in render_sql(revision)


def test_upgrade_needing_what_only_env_py_supplies_is_a_render_error(tmp_path: Path) -> None:
    revision = _project(tmp_path, "op, tables, tester").get_revision("c01")
    with pytest.raises(RenderError, match=r"upgrade\(op, tables, tester\) takes arguments"):
        render_sql(revision)
    module = load_revision(Path(revision.path)).module
    assert module is not None
    with pytest.raises(RenderFailed) as failed:
        Renderer().render("c01", Path(revision.path), module, None)
    assert failed.value.needs_arguments and failed.value.line == 10
