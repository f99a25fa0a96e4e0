"""A small phase-branched Alembic project, written fresh into each test's tmp_path."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.config import Config

from expandcontract import api
from expandcontract.phases import Phase
from expandcontract.scaffold import init_environment

REVISIONS = {
    "e1": dict(
        down=None,
        labels=("expand",),
        deps=None,
        up="""op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.Text),
        sa.Column("city", sa.Text),
    )""",
        down_body='op.drop_table("customers")',
    ),
    "m1": dict(
        down=None,
        labels=("migrate",),
        deps="e1",
        up="""op.execute("UPDATE customers SET city = split_part(address, ',', 2) WHERE city IS NULL")""",
        down_body="pass",
    ),
    "c1": dict(
        down=None,
        labels=("contract",),
        deps=("e1", "m1"),
        up='op.drop_column("customers", "address")',
        down_body='op.add_column("customers", sa.Column("address", sa.Text))',
    ),
}


def write_revision(versions: Path, rev: str, spec: dict) -> Path:
    path = versions / f"{rev}.py"
    lines = [
        f'"""revision {rev}"""',
        "import sqlalchemy as sa",
        "from alembic import op",
        "",
        f"revision = {rev!r}",
        f"down_revision = {spec['down']!r}",
        f"branch_labels = {spec['labels']!r}",
        f"depends_on = {spec['deps']!r}",
        "",
        "",
        "def upgrade():",
        f"    {spec['up']}",
        "",
        "",
        "def downgrade():",
        f"    {spec['down_body']}",
        "",
    ]
    path.write_text("\n".join(lines))
    return path


@dataclass
class Project:
    root: Path
    versions: Path
    database_url: str

    @property
    def ini(self) -> Path:
        return self.root / "alembic.ini"

    def config(self) -> Config:
        config = Config(str(self.ini))
        config.attributes["expandcontract.database_url"] = self.database_url
        return config

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)

    def columns(self, table: str = "customers") -> set[str]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return {c["name"] for c in sa.inspect(conn).get_columns(table)}
        finally:
            engine.dispose()

    def ledger_events(self) -> list[tuple[str, str | None]]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT event, revision FROM expandcontract.expandcontract_ledger ORDER BY id"
                    )
                )
                return [(r.event, r.revision) for r in rows]
        finally:
            engine.dispose()

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run one statement in its own transaction (as the test's superuser) and return rows."""
        engine = self.engine()
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def psql(self, script: str, *flags: str, url: str | None = None) -> subprocess.CompletedProcess:
        """Run ``script`` with the real psql client (default settings unless ``flags``)."""
        path = self.root / f"script_{uuid.uuid4().hex[:8]}.sql"
        path.write_text(script)
        target = sa.engine.make_url(url or self.database_url).set(drivername="postgresql")
        return subprocess.run(
            ["psql", "-X", *flags, "-f", str(path), target.render_as_string(hide_password=False)],
            capture_output=True,
            text=True,
            check=False,
        )

    def write(self, rev: str, **spec: Any) -> Path:
        """Add (or replace) a revision file: ``down``, ``labels``, ``deps``, ``up``, ``down_body``."""
        defaults: dict[str, Any] = dict(down=None, labels=None, deps=None, down_body="pass")
        return write_revision(self.versions, rev, {**defaults, **spec})


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    init_environment(tmp_path / "migrations", tmp_path / "alembic.ini")
    versions = tmp_path / "migrations" / "versions"
    for rev, spec in REVISIONS.items():
        write_revision(versions, rev, spec)
    return Project(tmp_path, versions, database_url)


@pytest.fixture
def expanded(project: Project) -> Project:
    """The project after its expand and migrate phases: what both releases run against."""
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    return project


@pytest.fixture
def role(project: Project) -> Iterator[str]:
    """A throwaway login role (roles are cluster-wide: unique name, dropped afterwards)."""
    name = f"ec_app_{uuid.uuid4().hex[:8]}"
    project.sql(f"CREATE ROLE {name} LOGIN")
    try:
        yield name
    finally:
        engine = project.engine()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            guarded = conn.exec_driver_sql(
                "SELECT to_regprocedure('expandcontract.approve_session(text)')"
            ).scalar()
            if guarded:  # DROP OWNED is destructive DDL: the event trigger wants an approval
                conn.exec_driver_sql("SELECT expandcontract.approve_session('test clean-up')")
            conn.exec_driver_sql(f"REASSIGN OWNED BY {name} TO CURRENT_USER")
            conn.exec_driver_sql(f"DROP OWNED BY {name}")
        engine.dispose()
        admin = sa.create_engine(
            sa.engine.make_url(project.database_url).set(database="postgres"),
            poolclass=sa.pool.NullPool,
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
        admin.dispose()


def role_url(project: Project, role: str) -> str:
    return (
        sa.engine.make_url(project.database_url)
        .set(username=role, password=None)
        .render_as_string(hide_password=False)
    )
