"""An existing project adopts expandcontract and deploys with it (DESIGN §12).

Two projects shaped like real ones (a plain Alembic service and a Flask-Migrate app, each with
a linear history of seven revisions that today's rules call unsafe, and a package called
``app``), each on real PostgreSQL and on a real SQLite file (local development).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from expandcontract.baseline import read_baseline
from tests.adopt.conftest import SCENARIOS, Project, _environment, retarget

# Per scenario: the new column, what fills it, the column the contract drops, and its table.
CHANGES = {
    "plain": ("bio", 'UPDATE "user" SET bio = full_name WHERE bio IS NULL', "full_name"),
    "flask": ("display_name", 'UPDATE "user" SET display_name = username', "about_me"),
}
LEGACY_HEAD = {"plain": "8b0d2f4a6c8e", "flask": "0c1d2e3f4a5b"}


def add_phase_revisions(project) -> None:
    """The first expand, migrate and contract revisions, created as the README says."""
    column, fill, dropped = CHANGES[project.kind]
    for phase, message in (
        ("expand", f"add user {column}"),
        ("migrate", f"fill user {column}"),
        ("contract", f"drop user {dropped}"),
    ):
        created = project.ec("revision", "--phase", phase, "-m", message)
        assert created.code == 0, created.output
    project.fill(f"add_user_{column}", f'op.add_column("user", sa.Column("{column}", sa.Text()))')
    project.fill(f"fill_user_{column}", f"op.execute({fill!r})")
    project.fill(
        f"drop_user_{dropped}",
        f'with op.batch_alter_table("user") as batch:\n    batch.drop_column("{dropped}")',
    )


@pytest.fixture(scope="module")
def adopted(tmp_path_factory) -> dict[str, Path]:
    """Each scenario adopted, with its first phase revisions (done once, copied per test)."""
    done = {}
    for kind in ("plain", "flask"):
        root = tmp_path_factory.mktemp(f"adopted-{kind}") / kind
        shutil.copytree(SCENARIOS / kind, root, ignore=shutil.ignore_patterns("__pycache__"))
        project = Project(root, kind, "sqlite://", _environment(root, kind, "sqlite://"))
        adopted = project.ec("adopt")
        assert adopted.code == 0, adopted.output
        baseline = read_baseline(root / "migrations")
        assert baseline is not None and baseline.heads == (LEGACY_HEAD[kind],)
        assert "expandcontract.run_migrations(" in (root / "migrations" / "env.py").read_text()
        add_phase_revisions(project)
        done[kind] = root
    return done


@pytest.fixture(params=["postgresql", "sqlite"])
def urls(request, tmp_path) -> tuple[str, str]:
    """Two empty databases of one kind: one at the legacy head later, one left fresh."""
    if request.param == "postgresql":
        return request.getfixturevalue("database_url"), request.getfixturevalue("second_database")
    for name in ("dev.db", "fresh.db"):
        sqlite3.connect(tmp_path / name).close()
    return f"sqlite:///{tmp_path / 'dev.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.mark.parametrize("kind", ["plain", "flask"])
def test_adopted_project_deploys_on_legacy_and_fresh_databases(
    make_project, adopted, urls, kind
) -> None:
    url, fresh_url = urls
    project = make_project(kind, url, adopted[kind])
    column, _, dropped = CHANGES[kind]
    # A database the project had migrated before adopting: at the legacy head.
    legacy = project.deploy_script(LEGACY_HEAD[kind])
    assert legacy.code == 0, legacy.output
    assert column not in project.columns("user")

    deployed = project.ec("upgrade")  # the deploy command
    assert deployed.code == 0, deployed.output
    assert "contract pending" in deployed.out
    assert column in project.columns("user")
    assert dropped in project.columns("user"), "the contract ran during the soak"

    # The project's own deploy script (alembic upgrade head / flask db upgrade) agrees.
    script = project.deploy_script()
    assert script.code == 0, script.output
    assert "contract pending" in script.err
    assert dropped in project.columns("user")

    refused = project.ec("upgrade", "contract")
    assert refused.code == 3, refused.output
    assert "no release has been marked stable" in refused.err
    # The project's own tool refuses too: a CommandError under alembic, exit 3 under flask db.
    if kind == "flask":
        own = project.run("flask", "db", "upgrade", "contract@head")
        assert own.code == 3, own.output
    else:
        own = project.run("alembic", "upgrade", "contract@head")
        assert own.code != 0, own.output
    assert "contract refused" in own.err and "Traceback" not in own.err
    assert dropped in project.columns("user")

    stable = project.ec("mark-stable", "v2", "--soak", "1s")
    assert stable.code == 0, stable.output
    time.sleep(1.2)
    done = project.ec("upgrade")
    assert done.code == 0, done.output
    assert "contract pending" not in done.out
    assert dropped not in project.columns("user")
    events = project.ledger()
    assert ("contract_refused", None) in events
    assert events[-1][0] == "contract_applied"

    status = project.ec("status", "--format", "json")
    assert status.code == 0, status.output
    report = json.loads(status.out)
    assert report["database_url_source"] == "env.py connection="
    assert report["legacy_pending"] == [] and report["pending"]["contract"] == []

    # A fresh database (CI, a new developer): every phase in one run, no --force.
    fresh = retarget(project, fresh_url)
    first = fresh.deploy_script()
    assert first.code == 0, first.output
    assert dropped not in fresh.columns("user")
    events = fresh.ledger()
    assert any(event == "contract_applied" for event, _ in events)
    assert ("phase_applied", LEGACY_HEAD[kind]) in events


# Per scenario: the model line a developer adds, and what follows it.
NEW_FIELD = {
    "plain": (
        "app/models.py",
        "    owner_id: Mapped[int]",
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n",
    ),
    "flask": ("app/models.py", "    last_seen = ", "    display_name = sa.Column(sa.String(64))\n"),
}


@pytest.mark.parametrize("kind", ["plain", "flask"])
def test_autogenerate_roots_the_expand_branch_on_the_baseline(make_project, tmp_path, kind) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    project = make_project(kind, url)
    assert project.ec("adopt").code == 0
    assert project.deploy_script().code == 0  # the developer's database, at the legacy head
    path, before, line = NEW_FIELD[kind]
    models = project.root / path
    text = models.read_text()
    models.write_text(text.replace(before, line + before, 1))
    if kind == "flask":
        made = project.run("flask", "db", "migrate", "-m", "new field")
    else:
        made = project.run("alembic", "revision", "--autogenerate", "-m", "new field")
    assert made.code == 0, made.output
    (created,) = project.versions.glob("*new_field*.py")
    source = created.read_text()
    assert f"down_revision = '{LEGACY_HEAD[kind]}'" in source
    assert "branch_labels = ('expand',)" in source
    assert "add_column" in source
