"""``expandcontract adopt`` on what real projects look like, and on bad input.

Bad input gets one clear line and exit 2, and changes nothing on disk or in the database.
``adopt`` needs no database and imports no revision, so these run in-process.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from expandcontract.baseline import read_baseline, write_baseline
from expandcontract.cli import main
from expandcontract.phases import Phase, annotate, is_legacy, phase_of
from tests.adopt.conftest import SCENARIOS, Project

# The scenario's alembic.ini is an older project's, without path_separator: Alembic warns.
pytestmark = pytest.mark.filterwarnings("ignore:No path_separator found:DeprecationWarning")


def copy(tmp_path: Path, kind: str = "plain") -> Project:
    root = tmp_path / kind
    shutil.copytree(SCENARIOS / kind, root, ignore=shutil.ignore_patterns("__pycache__"))
    return Project(root, kind, "")


def invoke(project: Project, monkeypatch, *args: str):
    monkeypatch.chdir(project.root)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FLASK_APP", raising=False)
    return CliRunner().invoke(main, list(args))


def refused(project: Project, monkeypatch, *args: str, says: str) -> str:
    before = project.fingerprint()
    result = invoke(project, monkeypatch, *args)
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert says in message
    assert "Traceback" not in message
    assert len(message.removeprefix("Error: ").splitlines()) == 1, message
    assert project.fingerprint() == before, "refused input changed the project"
    return message


def test_adopt_records_the_baseline_and_edits_env_py(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    result = invoke(project, monkeypatch, "adopt")
    assert result.exit_code == 0, result.output
    assert "baseline 8b0d2f4a6c8e (7 legacy revisions)" in result.output
    env = (project.root / "migrations" / "env.py").read_text()
    assert env.count("expandcontract.run_migrations(") == 2  # offline and online
    assert "context.begin_transaction" not in env
    assert "import expandcontract\n" in env
    # The project's own arguments are kept.
    assert "render_as_batch=True" in env and "connection=connection" in env


def test_adopt_twice_changes_nothing(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path, "flask")
    assert invoke(project, monkeypatch, "adopt", "-c", "migrations/alembic.ini").exit_code == 0
    refused(project, monkeypatch, "adopt", "-c", project.ini, says="already adopted")


def test_adopt_needs_no_installed_packages_of_the_revisions(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    first = project.versions / "1f0a6c1e2b3d_create_user_table.py"
    first.write_text(
        first.read_text().replace(
            "from alembic import op", "import geoalchemy_absent\nfrom alembic import op"
        )
    )
    result = invoke(
        project, monkeypatch, "adopt", "--database-url", "postgresql://nobody@127.0.0.1:1/x"
    )
    assert result.exit_code == 0, result.output  # no database, no import of the revisions
    assert "note: the database is not reachable now" in result.output


def test_two_legacy_heads(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    (project.versions / "4a4a4a4a4a4a_side_branch.py").write_text(
        'revision = "4a4a4a4a4a4a"\ndown_revision = "2a4c6e8f0b1d"\n'
        "def upgrade():\n    pass\n\ndef downgrade():\n    pass\n"
    )
    message = refused(project, monkeypatch, "adopt", says="the history has 2 heads")
    assert "alembic merge" in message and "4a4a4a4a4a4a" in message and "8b0d2f4a6c8e" in message


def test_a_baseline_naming_a_missing_revision(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    assert invoke(project, monkeypatch, "adopt").exit_code == 0
    write_baseline(project.root / "migrations", ["deadbeef0000"])
    for command in (["upgrade"], ["status"], ["revision", "--phase", "expand", "-m", "x"]):
        message = refused(project, monkeypatch, *command, says="deadbeef0000")
        assert "not in" in message


def test_a_project_scaffolded_by_init(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["init", "migrations"]).exit_code == 0
    project = Project(tmp_path, "plain", "")
    refused(project, monkeypatch, "adopt", says="set up by `expandcontract init`")


def test_a_project_that_already_has_phase_branches(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    (project.versions / "5e5e5e5e5e5e_expand.py").write_text(
        'revision = "5e5e5e5e5e5e"\ndown_revision = "8b0d2f4a6c8e"\nbranch_labels = ("expand",)\n'
    )
    refused(project, monkeypatch, "adopt", says="already has phase branches")


def test_an_env_py_adopt_cannot_edit_gets_the_lines_to_add(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    env = project.root / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "        with context.begin_transaction():\n            context.run_migrations()\n",
            "        print('migrating')\n"
            "        with context.begin_transaction():\n            context.run_migrations()\n",
        )
    )
    message = refused(project, monkeypatch, "adopt", says=str(Path("migrations") / "env.py"))
    assert "import expandcontract" in message
    assert "expandcontract.run_migrations(context, ARGS)" in message
    assert read_baseline(project.root / "migrations") is None


def test_a_mysql_url_is_refused_before_anything_is_written(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    message = refused(
        project,
        monkeypatch,
        "adopt",
        "--database-url",
        "mysql+pymysql://root@127.0.0.1:3306/shop",
        says="MySQL/MariaDB is not supported",
    )
    assert "advisory" in message and "CREATE INDEX CONCURRENTLY" in message


def test_a_flask_migrate_project_without_a_flask_app(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path, "flask")
    assert invoke(project, monkeypatch, "adopt", "-c", project.ini).exit_code == 0
    refused(project, monkeypatch, "status", "-c", project.ini, says="pass --app")
    refused(
        project,
        monkeypatch,
        "upgrade",
        "-c",
        project.ini,
        "--app",
        "no_such_module:create_app",
        says="cannot load the Flask application 'no_such_module:create_app'",
    )


def test_a_template_without_branch_labels_still_gets_labelled_roots(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    mako = project.root / "migrations" / "script.py.mako"
    mako.write_text(
        "\n".join(
            line
            for line in mako.read_text().splitlines()
            if not line.startswith(("branch_labels", "depends_on"))
        )
    )
    adopted = invoke(project, monkeypatch, "adopt")
    assert adopted.exit_code == 0 and "no branch_labels line" in adopted.output
    for phase in ("expand", "migrate"):
        made = invoke(project, monkeypatch, "revision", "--phase", phase, "-m", f"first {phase}")
        assert made.exit_code == 0, made.output
    script = ScriptDirectory.from_config(Config(str(project.root / "alembic.ini")))
    annotate(script)
    by_phase = {phase_of(rev): rev for rev in script.walk_revisions() if phase_of(rev)}
    assert set(by_phase) == {Phase.EXPAND, Phase.MIGRATE}
    assert by_phase[Phase.MIGRATE].dependencies == by_phase[Phase.EXPAND].revision


def test_phases_on_a_linear_history_ignore_the_labels_alembic_leaks(tmp_path, monkeypatch) -> None:
    """Alembic copies a branch label down a linear history; phase_of reads each file's own."""
    project = copy(tmp_path)
    assert invoke(project, monkeypatch, "adopt").exit_code == 0
    made = invoke(project, monkeypatch, "revision", "--phase", "expand", "-m", "first expand")
    assert made.exit_code == 0, made.output
    script = ScriptDirectory.from_config(Config(str(project.root / "alembic.ini")))
    legacy = script.get_revision("1f0a6c1e2b3d")
    assert legacy is not None and "expand" in legacy.branch_labels  # what Alembic does
    annotate(script)
    assert phase_of(legacy) is None and is_legacy(legacy)
    (expand,) = [r for r in script.walk_revisions() if not is_legacy(r)]
    assert phase_of(expand) is Phase.EXPAND and expand.down_revision == "8b0d2f4a6c8e"


def test_a_phase_branch_disconnected_at_base_is_refused(tmp_path, monkeypatch) -> None:
    project = copy(tmp_path)
    assert invoke(project, monkeypatch, "adopt").exit_code == 0
    (project.versions / "6f6f6f6f6f6f_stray.py").write_text(
        textwrap.dedent(
            """\
            revision = "6f6f6f6f6f6f"
            down_revision = None
            branch_labels = ("expand",)
            def upgrade():
                pass
            """
        )
    )
    refused(project, monkeypatch, "upgrade", says="disconnected from the adopted baseline")


@pytest.mark.parametrize("kind", ["plain", "flask"])
def test_every_new_command_has_help(kind) -> None:
    for command in ("adopt", "upgrade", "status", "revision", "mark-stable"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
