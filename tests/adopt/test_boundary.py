"""Which database is migrated (one URL precedence), async URLs, SQLite and MySQL (DESIGN §12)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from expandcontract.cli import main

REVISION = """\
from alembic import op

revision = "e1"
down_revision = None
branch_labels = ("expand",)
depends_on = None


def upgrade():
    op.execute("CREATE TABLE marker (id integer PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE marker")
"""

ASYNC_ENV = """\
import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import expandcontract


async def run_async_migrations():
    engine = create_async_engine(os.environ["ASYNC_URL"])
    async with engine.connect() as connection:
        await connection.run_sync(
            lambda sync: expandcontract.run_migrations(context, connection=sync)
        )
    await engine.dispose()


async def hand_over_the_async_connection():
    engine = create_async_engine(os.environ["ASYNC_URL"])
    try:
        async with engine.connect() as connection:
            expandcontract.run_migrations(context, connection=connection)
    finally:
        await engine.dispose()


if os.environ.get("WRONG"):
    asyncio.run(hand_over_the_async_connection())
else:
    asyncio.run(run_async_migrations())
"""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An ``init``-scaffolded project with one expand revision, run from its directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "FLASK_APP", "ASYNC_URL", "WRONG", "OTHER_URL"):
        monkeypatch.delenv(name, raising=False)
    assert CliRunner().invoke(main, ["init", "migrations"]).exit_code == 0
    (tmp_path / "migrations" / "versions" / "e1.py").write_text(REVISION)
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def has_marker(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).has_table("marker")
    finally:
        engine.dispose()


@pytest.fixture
def other_database(request) -> str:
    return request.getfixturevalue("second_database")


def test_one_url_precedence_in_every_command(project, database_url, other_database, monkeypatch):
    ini = project / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("sqlalchemy.url =", f"sqlalchemy.url = {other_database}")
    )
    status = cli("status", "--format", "json")
    assert '"database_url_source": "sqlalchemy.url in the Alembic config"' in status.output

    monkeypatch.setenv("DATABASE_URL", database_url)
    status = cli("status", "--format", "json")
    assert '"database_url_source": "$DATABASE_URL"' in status.output

    # The flag wins over $DATABASE_URL, in status and in upgrade alike.
    status = cli("status", "--format", "json", "--database-url", other_database)
    assert '"database_url_source": "--database-url"' in status.output
    assert cli("upgrade", "--database-url", other_database).exit_code == 0
    assert has_marker(other_database) and not has_marker(database_url)

    # env.py's own url= comes before $DATABASE_URL.
    env = project / "migrations" / "env.py"
    env.write_text(
        "import os\n"
        + env.read_text().replace(
            "target_metadata=target_metadata,",
            'target_metadata=target_metadata, url=os.environ["OTHER_URL"],',
        )
    )
    monkeypatch.setenv("OTHER_URL", database_url)
    status = cli("status", "--format", "json")
    assert '"database_url_source": "env.py url="' in status.output
    assert cli("upgrade").exit_code == 0
    assert has_marker(database_url)


def test_an_asyncpg_url_is_migrated(project, database_url) -> None:
    url = make_url(database_url).set(drivername="postgresql+asyncpg")
    result = cli("upgrade", "--database-url", url.render_as_string(hide_password=False))
    assert result.exit_code == 0, result.output
    assert has_marker(database_url)


def test_an_async_env_py_with_run_sync_works_and_a_bare_async_connection_is_refused(
    project, database_url, monkeypatch
) -> None:
    (project / "migrations" / "env.py").write_text(ASYNC_ENV)
    url = make_url(database_url).set(drivername="postgresql+asyncpg")
    monkeypatch.setenv("ASYNC_URL", url.render_as_string(hide_password=False))
    monkeypatch.setenv("WRONG", "1")
    wrong = cli("upgrade")
    assert wrong.exit_code == 2, wrong.output
    assert "run_sync" in wrong.output and "Traceback" not in wrong.output
    assert not has_marker(database_url)
    monkeypatch.delenv("WRONG")
    right = cli("upgrade")
    assert right.exit_code == 0, right.output
    assert has_marker(database_url)


@pytest.fixture
def mysql_url() -> str:
    """An empty MariaDB/MySQL database when one runs here, else just a URL (refused unread)."""
    try:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    except pymysql.err.OperationalError:
        return "mysql+pymysql://root@127.0.0.1:3306/ec_adopt_absent"
    with conn.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS ec_adopt_refusal")
        cursor.execute("CREATE DATABASE ec_adopt_refusal")
    conn.close()
    return "mysql+pymysql://root@127.0.0.1:3306/ec_adopt_refusal"


def mysql_tables(url: str) -> list[str]:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            return list(sa.inspect(conn).get_table_names())
    except sa.exc.OperationalError:
        return []


def test_mysql_is_refused_before_any_sql(project, mysql_url) -> None:
    for args in (["upgrade"], ["upgrade", "expand"], ["upgrade", "--sql"], ["mark-stable", "v2"]):
        result = cli(*args, "--database-url", mysql_url)
        assert result.exit_code == 2, (args, result.output)
        assert "MySQL/MariaDB is not supported" in result.output
        assert "Traceback" not in result.output
        for postgresql_only in ("SET LOCAL", "jsonb", "bigserial", "plpgsql", "CREATE"):
            assert postgresql_only not in result.stdout
    assert mysql_tables(mysql_url) == []


def test_sqlite_skips_each_postgresql_only_feature_with_one_line(project, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    result = cli("upgrade", "--database-url", url)
    assert result.exit_code == 0, result.output
    for feature in ("migration lock", "lock_timeout", "phase policing"):
        lines = [line for line in result.stderr.splitlines() if feature in line]
        assert len(lines) == 1 and "skipped (PostgreSQL only)" in lines[0], result.stderr
    assert has_marker(url)
    stable = cli("mark-stable", "v2", "--soak", "1h", "--database-url", url)
    assert stable.exit_code == 0, stable.output
    status = cli("status", "--format", "json", "--database-url", url)
    assert '"release": "v2"' in status.output


def test_the_hook_states_what_it_keeps_in_init_env_py() -> None:
    template = Path(__file__).parents[2] / "expandcontract" / "templates" / "env.py.txt"
    assert "transaction_per_migration=True" in textwrap.dedent(template.read_text())
