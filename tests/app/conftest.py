"""Fixtures for the reference app: migrations through Alembic, blue and green over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.db import engine_of
from tests.state.support import state_app, state_services, unused_port  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def alembic_config(database_url: str) -> Config:
    """The repository's alembic.ini, pointed at this test's database."""
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("script_location", str(REPO / "alembic"))
    config.attributes["expandcontract.database_url"] = database_url
    return config


@pytest.fixture
def upgrade(alembic_config: Config) -> Callable[[str], None]:
    """``upgrade("expand@head")``: what ``alembic upgrade expand@head`` does."""

    def run(target: str) -> None:
        command.upgrade(alembic_config, target)

    return run


@dataclass
class Live:
    """One app served over real HTTP on 127.0.0.1."""

    app: Flask
    server: BaseWSGIServer
    url: str

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.put(self.url + path, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.delete(self.url + path, timeout=10, **kwargs)


def serve(app: Flask) -> Live:
    """Start ``app`` on a free port in a daemon thread (threaded, like a real server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return Live(app, server, f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def start_app(database_url: str) -> Iterator[Callable[..., Live]]:
    """``start_app("blue", REDIS_URL=...)`` serves a release against this test's database."""
    started: list[Live] = []

    def start(version: str, **config: Any) -> Live:
        settings = {
            "APP_VERSION": version,
            "DATABASE_URL": database_url,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            **config,
        }
        live = serve(create_app(settings))
        started.append(live)
        return live

    yield start
    for live in started:
        live.server.shutdown()
        live.server.server_close()
        engine_of(live.app).dispose()


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """``make_app(config)``: :func:`create_app` for in-process use; its pool is closed afterwards."""
    made: list[Flask] = []

    def make(config: dict[str, Any] | None = None) -> Flask:
        app = create_app(config)
        made.append(app)
        return app

    yield make
    for app in made:
        engine_of(app).dispose()


@pytest.fixture
def blue(start_app: Callable[..., Live]) -> Live:
    return start_app("blue")


@pytest.fixture
def green(start_app: Callable[..., Live]) -> Live:
    return start_app("green")


@pytest.fixture
def db(engine: sa.Engine) -> Callable[[str, dict[str, Any] | None], list[dict[str, Any]]]:
    """Run one SQL statement in its own transaction; the rows as dicts."""

    def run(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql), params or {})
            return [dict(row) for row in result.mappings()] if result.returns_rows else []

    return run
