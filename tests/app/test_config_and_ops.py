"""Configuration from the environment, health when the database is down, JSON logs, gunicorn."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy.engine import make_url

from app.config import AppConfigError, load_config
from app.logs import JsonFormatter
from tests.app.conftest import REPO


def test_db_parts_build_a_url_with_the_password_escaped() -> None:
    password = "p@ss:w/rd%?#&="
    config = load_config(
        env={"DB_HOST": "db.internal", "DB_PORT": "6543", "DB_NAME": "customers",
             "DB_USER": "app", "DB_PASSWORD": password, "APP_VERSION": "green"}
    )  # fmt: skip
    url = make_url(config["DATABASE_URL"])
    assert (url.drivername, url.host, url.port, url.database, url.username) == (
        "postgresql+psycopg", "db.internal", 6543, "customers", "app",
    )  # fmt: skip
    assert url.password == password
    assert config["APP_VERSION"] == "green" and config["CACHE_VERSION"] == "v2"


def test_database_url_wins_and_gets_the_psycopg_driver() -> None:
    config = load_config(env={"DATABASE_URL": "postgresql://u@h/db", "DB_HOST": "ignored"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    assert config["APP_VERSION"] == "blue" and config["REDIS_URL"] is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL: invalid database URL"),
        ({"DB_HOST": "h", "DB_PORT": "five"}, "DB_PORT must be a number"),
        (
            {"DATABASE_URL": "postgresql://h/db", "CACHE_TTL_SECONDS": "1m"},
            "CACHE_TTL_SECONDS must",
        ),
        ({"DATABASE_URL": "postgresql://h/db", "APP_VERSION": "purple"}, "APP_VERSION must be"),
    ],
)
def test_bad_configuration_says_what_to_set(env: dict[str, str], message: str) -> None:
    with pytest.raises(AppConfigError, match=message):
        load_config(env=env)


def test_create_app_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, make_app
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_VERSION", "green")
    monkeypatch.setenv("ENVIRONMENT", "staging")
    app = make_app()
    assert app.config["APP_VERSION"] == "green"
    body = app.test_client().get("/health").get_json()
    assert (body["version"], body["environment"]) == ("green", "staging")


def test_database_down_is_503_not_500(make_app) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(
        {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/x", "APP_VERSION": "blue"}
    )
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["database"] == "unavailable"
    listing = client.get("/api/customers")
    assert listing.status_code == 503
    assert listing.get_json()["error"] == "database_unavailable"
    # Bad input is refused before a connection is even asked for.
    assert client.post("/api/customers", json={"name": ""}).status_code == 400
    assert client.put("/api/customers/1", json={"email": "nope"}).status_code == 400


def test_logs_are_json_lines_with_version_environment_and_request_id(
    upgrade, database_url: str, make_app
) -> None:
    upgrade("expand@head")
    app = make_app({"DATABASE_URL": database_url, "APP_VERSION": "green", "ENVIRONMENT": "prod"})
    [handler] = [
        h for h in logging.getLogger("customers").handlers if isinstance(h.formatter, JsonFormatter)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        app.test_client().get("/api/customers/42", headers={"X-Request-ID": "req-42"})
    finally:
        handler.setStream(previous)
    [line] = [json.loads(text) for text in buffer.getvalue().splitlines()]
    assert {k: line[k] for k in ("version", "environment", "request_id", "method", "path", "status")} == {
        "version": "green", "environment": "prod", "request_id": "req-42",
        "method": "GET", "path": "/api/customers/42", "status": 404,
    }  # fmt: skip
    assert line["level"] == "info" and isinstance(line["duration_ms"], float)


def test_gunicorn_serves_the_factory(upgrade, database_url: str) -> None:
    """The container's command: ``gunicorn 'app:create_app()'``, configured by the environment."""
    upgrade("expand@head")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_VERSION": "blue",
        "ENVIRONMENT": "container",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "app:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert process.poll() is None, (
                    process.stderr.read().decode() if process.stderr else ""
                )
                assert time.monotonic() < deadline, "gunicorn did not start in 60 s"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["environment"] == "container"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def test_an_exhausted_connection_pool_is_503_not_500(upgrade, database_url: str, make_app) -> None:
    from app.db import engine_of

    upgrade("expand@head")
    app = make_app(
        {
            "DATABASE_URL": database_url,
            "APP_VERSION": "blue",
            "DB_POOL_SIZE": 1,
            "DB_MAX_OVERFLOW": 0,
            "DB_POOL_TIMEOUT": 0.2,
        }
    )
    with engine_of(app).connect():  # the only connection, held elsewhere
        response = app.test_client().get("/api/customers")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_busy"
    assert app.test_client().get("/api/customers").status_code == 200
