"""Real PostgreSQL for every test, never a mock.

``EXPANDCONTRACT_TEST_DATABASE_URL`` points the suite at an existing server (CI uses the
machine's); without it an embedded throwaway server is started once per session. Each test
that asks for ``database_url`` gets a fresh, empty database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import URL, make_url

from expandcontract.embedded import embedded_postgres
from expandcontract.runtime.connect import normalise_url

ENV_VAR = "EXPANDCONTRACT_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """SQLAlchemy URL of the server the tests use (its maintenance database)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        yield normalise_url(configured)
        return
    with embedded_postgres() as url:
        yield url


def _janitor(url: URL, dbname: str) -> DatabaseJanitor:
    host = url.host or url.query.get("host") or "127.0.0.1"
    return DatabaseJanitor(
        user=url.username or "postgres",
        host=str(host),
        port=url.port or 5432,
        dbname=dbname,
        password=url.password or None,
    )


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database for this test; its SQLAlchemy URL."""
    server = make_url(pg_server_url)
    dbname = f"ec_test_{uuid.uuid4().hex[:12]}"
    with _janitor(server, dbname):
        yield server.set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the test's fresh database."""
    eng = sa.create_engine(database_url)
    yield eng
    eng.dispose()
