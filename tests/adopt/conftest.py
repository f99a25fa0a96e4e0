"""Scenario projects shaped like real ones, driven through the real command lines.

Each scenario is copied into the test's own directory and run from there (its package called
``app`` first on ``sys.path``), exactly as a user runs ``expandcontract``, ``alembic`` and
``flask db`` in their project. Commands run in subprocesses: the scenario's ``app`` must not
meet the reference app's ``app`` in one interpreter.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from expandcontract.ledger import Ledger
from tests.conftest import _janitor

SCENARIOS = Path(__file__).parent / "scenarios"
BIN = Path(sys.executable).parent


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


@dataclass
class Project:
    """One scenario copy: where it lives, how it is configured, how to run commands in it."""

    root: Path
    kind: str  # "plain" or "flask"
    url: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def ini(self) -> str:
        return "migrations/alembic.ini" if self.kind == "flask" else "alembic.ini"

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """A command as typed in the project directory (``expandcontract``, ``alembic``, ``flask``)."""
        program, *rest = args
        argv = (
            [str(BIN / "expandcontract"), *rest]
            if program == "expandcontract"
            else [sys.executable, "-m", program, *rest]
        )
        done = subprocess.run(
            argv,
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def ec(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """``expandcontract COMMAND -c <the project's config> ARGS``."""
        command, *rest = args
        return self.run("expandcontract", command, "-c", self.ini, *rest, env=env)

    def deploy_script(self, target: str = "head") -> Result:
        """What the project's deploy script runs: ``alembic upgrade head`` / ``flask db upgrade``."""
        if self.kind == "flask":
            return self.run("flask", "db", "upgrade", *([] if target == "head" else [target]))
        return self.run("alembic", "upgrade", target)

    def fill(self, message_slug: str, body: str) -> Path:
        """Give the revision whose file name contains ``message_slug`` an upgrade() body."""
        (path,) = self.versions.glob(f"*{message_slug}*.py")
        text = path.read_text()
        indented = "".join(f"    {line}\n" for line in body.strip().splitlines())
        path.write_text(
            text.replace("def upgrade():\n    pass\n", f"def upgrade():\n{indented}", 1)
        )
        return path

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))

    def columns(self, table: str) -> set[str]:
        engine = self.engine()
        try:
            return {c["name"] for c in sa.inspect(engine).get_columns(table)}
        finally:
            engine.dispose()

    def tables(self) -> set[str]:
        engine = self.engine()
        try:
            return set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def ledger(self) -> list[tuple[str, str | None]]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                # The library reads its own ledger (its own schema on PostgreSQL), oldest first.
                return [(str(e.event), e.revision) for e in reversed(Ledger(conn).entries())]
        finally:
            engine.dispose()

    def fingerprint(self) -> str:
        """A digest of every file of the project: equal before and after means nothing changed."""
        digest = hashlib.sha256()
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".db":
                digest.update(str(path.relative_to(self.root)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()


def _environment(root: Path, kind: str, url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "FLASK_APP", "PYTHONPATH")
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(root)
    if kind == "flask":
        env["FLASK_APP"] = "app:create_app"
        env["DATABASE_URL"] = url  # the app's own setting (SQLALCHEMY_DATABASE_URI)
    else:
        env["APP_DATABASE_URI"] = url  # read by app.settings, handed over by env.py
    return env


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """``make_project("plain" | "flask", url, source=None)``: a fresh copy of a scenario."""

    def make(kind: str, url: str, source: Path | None = None) -> Project:
        root = tmp_path / kind
        shutil.copytree(
            source or SCENARIOS / kind, root, ignore=shutil.ignore_patterns("__pycache__")
        )
        return Project(root, kind, url, _environment(root, kind, url))

    return make


def retarget(project: Project, url: str) -> Project:
    """The same project files, pointed at another database."""
    return Project(project.root, project.kind, url, _environment(project.root, project.kind, url))


@pytest.fixture
def second_database(pg_server_url: str) -> Iterator[str]:
    """Another fresh, empty PostgreSQL database for the same test."""
    server = make_url(pg_server_url)
    dbname = f"ec_test_{uuid.uuid4().hex[:12]}"
    with _janitor(server, dbname):
        yield server.set(database=dbname).render_as_string(hide_password=False)
