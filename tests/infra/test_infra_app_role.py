"""infra/sql/app_role.sql on real PostgreSQL with real psql: the app's role reads and writes rows,
and can neither change the schema nor touch the ledger (what the guard's ledger protection needs)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

SQL = Path(__file__).resolve().parents[2] / "infra" / "sql" / "app_role.sql"


def _libpq(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_app_role_reads_and_writes_rows_but_owns_nothing(database_url: str) -> None:
    url = sa.make_url(database_url)
    app_user = f"ec_app_{uuid.uuid4().hex[:8]}"
    owner = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with owner.begin() as connection:
        connection.execute(sa.text("CREATE TABLE customers (id serial PRIMARY KEY, name text)"))
        connection.execute(sa.text("CREATE SCHEMA expandcontract"))
        connection.execute(sa.text("CREATE TABLE expandcontract.ledger (id int)"))
    try:
        for _ in range(2):  # running it again changes nothing and does not fail
            subprocess.run(
                [
                    "psql",
                    _libpq(url),
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-v",
                    f"app_user={app_user}",
                    "-f",
                    str(SQL),
                ],
                check=True,
                capture_output=True,
            )
        with owner.begin() as connection:  # created after the script: default privileges
            connection.execute(sa.text("CREATE TABLE orders (id serial PRIMARY KEY)"))
            connection.execute(sa.text(f'SET ROLE "{app_user}"'))
            connection.execute(sa.text("INSERT INTO customers (name) VALUES ('a')"))
            connection.execute(sa.text("INSERT INTO orders DEFAULT VALUES"))
            assert connection.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 1
            for statement in (
                "CREATE TABLE app_made (id int)",
                "ALTER TABLE customers DROP COLUMN name",
                "INSERT INTO expandcontract.ledger VALUES (1)",
            ):
                connection.execute(sa.text("SAVEPOINT s"))
                with pytest.raises(sa.exc.ProgrammingError):
                    connection.execute(sa.text(statement))
                connection.execute(sa.text("ROLLBACK TO SAVEPOINT s"))
            connection.execute(sa.text("RESET ROLE"))
    finally:
        with owner.begin() as connection:
            connection.execute(sa.text(f'DROP OWNED BY "{app_user}"'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{app_user}"'))
        owner.dispose()
