"""The CodeDeploy AfterAllowTestTraffic hook Lambda (infra/lambda/smoke_test.py).

It runs against a real local HTTP server: the reference app (blue on the v1 schema, served by
werkzeug against a real PostgreSQL database), and a small in-process customer API for failures
the real app cannot be made to produce on demand (a hang, a missing id, an ignored update).
CodeDeploy is stubbed with botocore's Stubber, which also checks the exact status reported.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import sqlalchemy as sa
from botocore.stub import Stubber

HOOK_PATH = Path(__file__).resolve().parents[2] / "infra" / "lambda" / "smoke_test.py"
DEPLOYMENT_ID = "d-SMOKE0001"
HOOK_EXECUTION_ID = "hook-execution-0001"
EVENT = {"DeploymentId": DEPLOYMENT_ID, "LifecycleEventHookExecutionId": HOOK_EXECUTION_ID}


@pytest.fixture(scope="module")
def hook() -> Iterator[ModuleType]:
    """The Lambda module, loaded from its file (``lambda`` is not an importable package name)."""
    spec = importlib.util.spec_from_file_location("smoke_test_hook", HOOK_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture
def codedeploy() -> Iterator[Callable[[str], Any]]:
    """Factory for a CodeDeploy client stubbed to expect exactly one report with ``status``."""
    stubs: list[Stubber] = []

    def expect(status: str) -> Any:
        client = boto3.client(
            "codedeploy",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stub = Stubber(client)
        stub.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": HOOK_EXECUTION_ID},
            {
                "deploymentId": DEPLOYMENT_ID,
                "lifecycleEventHookExecutionId": HOOK_EXECUTION_ID,
                "status": status,
            },
        )
        stub.activate()
        stubs.append(stub)
        return client

    yield expect
    for stub in stubs:
        stub.assert_no_pending_responses()  # the verdict was reported, exactly once


# --- a small customer API with switchable faults -----------------------------------------------


@dataclass
class FakeApi:
    """In-memory customers API; each attribute switches on one way a broken release answers."""

    health_status: int = 200
    health_state: str = "healthy"
    create_status: int = 201
    create_returns_id: bool = True
    apply_updates: bool = True
    slow_path: str | None = None
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    next_id: int = 1

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.requests.append(f"{method} {path}")
        if path == self.slow_path:
            self.release.wait(5)  # longer than any client timeout used here
        if path == "/health":
            return self.health_status, {"status": self.health_state, "version": "green"}
        if method == "POST" and path == "/api/customers":
            if self.create_status != 201:
                return self.create_status, {"error": "internal error"}
            customer = {"id": self.next_id, **body}
            self.next_id += 1
            self.customers[customer["id"]] = customer
            return 201, customer if self.create_returns_id else {"name": body["name"]}
        match = re.fullmatch(r"/api/customers/(\d+)", path)
        if not match or int(match.group(1)) not in self.customers:
            return 404, {"error": "not found"}
        customer_id = int(match.group(1))
        if method == "GET":
            return 200, self.customers[customer_id]
        if method == "PUT":
            if self.apply_updates:
                self.customers[customer_id].update(body)
            return 200, self.customers[customer_id]
        if method == "DELETE":
            del self.customers[customer_id]
            return 204, None
        return 405, {"error": "method not allowed"}


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = api.answer(self.command, self.path, body)
            raw = b"" if payload is None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up (timeout test)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeApi, str]]:
    """A running fake API and its base URL."""
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{server.server_address[1]}"
    api.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, float], None]:
    """Point the hook at a test listener URL with a per-request timeout."""

    # Generous by default: the real app's first /health on a busy CI machine took 2.7 s once.
    # The timeout test passes its own short bound.
    def configure(url: str, timeout: float = 10.0) -> None:
        monkeypatch.setenv("TEST_LISTENER_URL", url)
        monkeypatch.setenv("REQUEST_TIMEOUT_SECONDS", str(timeout))

    return configure


# --- the real reference app ----------------------------------------------------------------------


@pytest.fixture
def real_app(database_url: str) -> Iterator[Callable[[str], str]]:
    """Serve ``app.create_app()`` for a release over HTTP on the test database; returns its URL."""
    app_package = pytest.importorskip("app", reason="the reference app (app/) is not written yet")
    from werkzeug.serving import make_server

    from app.db import engine_of

    started: list[tuple[Any, threading.Thread, Any]] = []

    def serve(release: str) -> str:
        flask_app = app_package.create_app({"APP_VERSION": release, "DATABASE_URL": database_url})
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((server, thread, flask_app))
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server, thread, flask_app in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        engine_of(flask_app).dispose()


def _create_v1_schema(engine: sa.Engine) -> None:
    from app import models_v1

    models_v1.metadata.create_all(engine)


def _customer_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()


def test_real_blue_release_passes_and_leaves_no_customer_behind(
    hook: ModuleType, codedeploy: Any, listener: Any, real_app: Any, engine: sa.Engine
) -> None:
    _create_v1_schema(engine)
    listener(real_app("blue"))
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Succeeded"))
    assert result["status"] == "Succeeded", result["reason"]
    assert "GET /health (blue)" in result["reason"]
    assert "DELETE /api/customers/" in result["reason"]
    assert _customer_count(engine) == 0


def test_real_green_release_on_unexpanded_schema_fails_on_health(
    hook: ModuleType, codedeploy: Any, listener: Any, real_app: Any, engine: sa.Engine
) -> None:
    """Green before the expand migration: its /health answers 503, nothing is written."""
    _create_v1_schema(engine)
    listener(real_app("green"))
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["status"] == "Failed"
    assert result["reason"].startswith("GET /health: expected HTTP 200, got 503")
    assert "incompatible" in result["reason"]
    assert _customer_count(engine) == 0


def test_real_green_release_on_expanded_schema_passes(
    hook: ModuleType,
    codedeploy: Any,
    listener: Any,
    real_app: Any,
    database_url: str,
    engine: sa.Engine,
) -> None:
    """After `alembic upgrade expand@head` green serves: the hook's flat address is split."""
    from alembic import command
    from alembic.config import Config

    repo = HOOK_PATH.parents[2]
    config = Config(str(repo / "alembic.ini"))
    config.set_main_option("script_location", str(repo / "alembic"))
    config.attributes["expandcontract.database_url"] = database_url
    command.upgrade(config, "expand@head")
    listener(real_app("green"))
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Succeeded"))
    assert result["status"] == "Succeeded", result["reason"]
    assert "GET /health (green)" in result["reason"]
    assert _customer_count(engine) == 0


# --- outcomes against the fake API ---------------------------------------------------------------


def test_healthy_release_succeeds_through_every_step(
    hook: ModuleType, codedeploy: Any, listener: Any, fake_api: Any
) -> None:
    api, url = fake_api
    listener(url)
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Succeeded"))
    assert result["status"] == "Succeeded"
    methods = [r.split(" ")[0] for r in api.requests]
    assert methods == ["GET", "POST", "GET", "PUT", "DELETE", "GET"]
    assert api.customers == {}


def test_health_503_fails_before_writing_anything(
    hook: ModuleType, codedeploy: Any, listener: Any, fake_api: Any
) -> None:
    api, url = fake_api
    api.health_status, api.health_state = 503, "unhealthy"
    listener(url)
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["reason"].startswith("GET /health: expected HTTP 200, got 503")
    assert api.requests == ["GET /health"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"health_state": "degraded"}, 'GET /health: expected "status": "healthy"'),
        ({"create_status": 500}, "POST /api/customers: expected HTTP 201, got 500"),
        ({"create_returns_id": False}, "POST /api/customers: no id"),
    ],
    ids=["health-200-not-healthy", "create-500", "create-without-id"],
)
def test_broken_answer_fails_with_the_step_and_what_it_got(
    hook: ModuleType,
    codedeploy: Any,
    listener: Any,
    fake_api: Any,
    fault: dict[str, Any],
    reason: str,
) -> None:
    api, url = fake_api
    for name, value in fault.items():
        setattr(api, name, value)
    listener(url)
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["reason"].startswith(reason), result["reason"]


def test_ignored_update_fails_and_the_customer_is_cleaned_up(
    hook: ModuleType, codedeploy: Any, listener: Any, fake_api: Any
) -> None:
    api, url = fake_api
    api.apply_updates = False
    listener(url)
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert "the update was not applied" in result["reason"]
    assert api.customers == {}, "the smoke-test customer was left behind"


def test_timeout_fails_within_the_bound(
    hook: ModuleType, codedeploy: Any, listener: Any, fake_api: Any
) -> None:
    api, url = fake_api
    api.slow_path = "/health"
    listener(url, timeout=0.3)
    started = time.monotonic()
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert time.monotonic() - started < 3
    assert result["reason"] == "GET /health: no answer within 0.3s"


def test_connection_refused_fails(hook: ModuleType, codedeploy: Any, listener: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    listener(f"http://127.0.0.1:{port}")
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["reason"].startswith("GET /health: connection failed")


def test_missing_listener_url_is_still_reported(
    hook: ModuleType, codedeploy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_LISTENER_URL", raising=False)
    result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["reason"] == "TEST_LISTENER_URL is not set"


@pytest.mark.parametrize("value", ["soon", "0", "600"])
def test_invalid_timeout_is_reported(
    hook: ModuleType, codedeploy: Any, listener: Any, fake_api: Any, value: str
) -> None:
    _, url = fake_api
    listener(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUEST_TIMEOUT_SECONDS", value)
        result = hook.handler(EVENT, None, codedeploy=codedeploy("Failed"))
    assert result["reason"].startswith(f"REQUEST_TIMEOUT_SECONDS={value!r}")


def test_hook_uses_only_stdlib_and_boto3() -> None:
    imports = re.findall(r"^(?:import|from) ([\w.]+)", HOOK_PATH.read_text(), re.M)
    third_party = {name.split(".")[0] for name in imports} - {
        "__future__",
        "http",
        "json",
        "logging",
        "os",
        "urllib",
        "uuid",
        "dataclasses",
        "typing",
    }
    assert third_party == {"boto3"}
