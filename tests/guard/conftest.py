"""A small phase-branched Alembic project, written fresh into each test's tmp_path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config

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


class Clock:
    """A settable clock, so no test sleeps through a soak."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Project:
    root: Path
    versions: Path
    database_url: str
    clock: Clock

    @property
    def ini(self) -> Path:
        return self.root / "alembic.ini"

    def config(self) -> Config:
        config = Config(str(self.ini))
        config.attributes["expandcontract.database_url"] = self.database_url
        config.attributes["expandcontract.clock"] = self.clock
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
                    sa.text("SELECT event, revision FROM expandcontract_ledger ORDER BY id")
                )
                return [(r.event, r.revision) for r in rows]
        finally:
            engine.dispose()


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    init_environment(tmp_path / "migrations", tmp_path / "alembic.ini")
    versions = tmp_path / "migrations" / "versions"
    for rev, spec in REVISIONS.items():
        write_revision(versions, rev, spec)
    return Project(
        tmp_path, versions, database_url, Clock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    )
