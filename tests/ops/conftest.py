"""Fixtures for the operation tests.

``project``: a small phase-branched Alembic project on disk, driven through real ``alembic`` commands."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from expandcontract.config import Settings

ENV_PY = """\
from alembic import context

import expandcontract

expandcontract.run_migrations(context, transaction_per_migration=True)
"""

PLAIN_ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine

import expandcontract.ops  # registers the operations, nothing else

if context.is_offline_mode():
    context.configure(dialect_name="postgresql", literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(context.config.attributes["expandcontract.database_url"])
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
"""

HEADER = """\
import sqlalchemy as sa
from alembic import op

from expandcontract.ops import *  # noqa: F403
from expandcontract.ops.patterns import *  # noqa: F403
from expandcontract.ops import REGISTRY
"""


class Project:
    """Revisions are added per phase branch; ``upgrade``/``downgrade`` run real Alembic commands."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        *,
        settings: Settings | None = None,
        plain: bool = False,
        preamble: str = "",
    ) -> None:
        self.root = root
        self.url = database_url
        self.settings = settings or Settings(lock_timeout=timedelta(seconds=1), lock_retries=3)
        self.preamble = textwrap.dedent(preamble)
        self.heads: dict[str, str] = {}
        self._engine: sa.Engine | None = None
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(PLAIN_ENV_PY if plain else ENV_PY)

    def config(self, force: bool = True) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.root / "migrations"))
        config.attributes["expandcontract.database_url"] = self.url
        config.attributes["expandcontract.settings"] = self.settings
        if force:
            # Soak and stable marks are the guard's business, tested elsewhere.
            config.attributes["expandcontract.force_reason"] = "test: soak not under test"
        return config

    def revision(
        self,
        rev: str,
        phase: str,
        upgrade: str,
        downgrade: str = "pass",
        *,
        depends_on: list[str] | None = None,
        extra: str = "",
    ) -> str:
        down = self.heads.get(phase)
        labels = None if down else (phase,)
        source = (
            HEADER
            + self.preamble
            + textwrap.dedent(extra)
            + f"\nrevision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n"
            + f"depends_on = {tuple(depends_on) if depends_on else None!r}\n\n"
            + "def upgrade():\n"
            + textwrap.indent(textwrap.dedent(upgrade).strip() or "pass", "    ")
            + "\n\n\ndef downgrade():\n"
            + textwrap.indent(textwrap.dedent(downgrade).strip() or "pass", "    ")
            + "\n"
        )
        (self.root / "migrations" / "versions" / f"{rev}.py").write_text(source)
        self.heads[phase] = rev
        return rev

    def upgrade(self, target: str = "heads", *, sql: bool = False) -> None:
        command.upgrade(self.config(), target, sql=sql)

    def downgrade(self, target: str) -> None:
        command.downgrade(self.config(), target)

    # -- looking at the database ----------------------------------------------------------

    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        return self._engine

    def sql(self, statement: str, **params: object) -> None:
        """Run ``statement`` in its own committed transaction (the app writing)."""
        with self.engine().begin() as connection:
            connection.execute(sa.text(statement), params)

    def scalar(self, statement: str, **params: object) -> object:
        with self.engine().connect() as connection:
            return connection.execute(sa.text(statement), params).scalar()

    def rows(self, statement: str, **params: object) -> list[tuple]:
        with self.engine().connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(statement), params)]

    def columns(self, table: str) -> list[str]:
        return [
            r[0]
            for r in self.rows(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                t=table,
            )
        ]

    def exists(self, name: str) -> bool:
        return bool(self.scalar("SELECT to_regclass(:n) IS NOT NULL", n=name))

    def has_trigger(self, table: str, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) "
                "AND tgname = :n)",
                t=table,
                n=name,
            )
        )

    def has_constraint(self, table: str, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) "
                "AND conname = :n)",
                t=table,
                n=name,
            )
        )

    def not_null(self, table: str, column: str) -> bool:
        return bool(
            self.scalar(
                "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                "AND attname = :c",
                t=table,
                c=column,
            )
        )

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Iterator[Project]:
    """An empty phase-branched project on a fresh database."""
    made = Project(tmp_path, database_url)
    yield made
    made.dispose()


@pytest.fixture
def make_project(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """``make_project(name, url=None, **kwargs)``: projects (plain Alembic, other settings, ...).

    Without ``url`` they share the test's fresh database.
    """
    made: list[Project] = []

    def factory(name: str, url: str | None = None, **kwargs: object) -> Project:
        target = url or request.getfixturevalue("database_url")
        project = Project(tmp_path / name, target, **kwargs)  # type: ignore[arg-type]
        made.append(project)
        return project

    yield factory
    for project in made:
        project.dispose()
