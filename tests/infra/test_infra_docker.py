"""The container image: Dockerfile rules, the entry point and the health probe.

There is no Docker engine here, so the Dockerfile is read instruction by instruction, and the
entry point and health probe scripts are run directly with stand-ins for gunicorn/expandcontract.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "infra" / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"
HEALTHCHECK = DOCKER_DIR / "healthcheck.py"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL", re.I)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Instructions split into build stages (each starts with FROM)."""
    result: list[list[tuple[str, str]]] = []
    for instruction in parsed:
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def secret_settings(parsed: list[tuple[str, str]]) -> list[str]:
    """ENV/ARG settings whose name looks secret and which carry a value baked into the image."""
    found = []
    for keyword, args in parsed:
        if keyword not in ("ENV", "ARG"):
            continue
        if "=" in args:
            pairs = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S*)", args)
        else:  # legacy `ENV NAME value` / `ARG NAME`
            name, _, value = args.partition(" ")
            pairs = [(name, value)]
        for name, value in pairs:
            if SECRET_NAME.search(name) and value.strip().strip("\"'"):
                found.append(f"{keyword} {name}")
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_multi_stage_build_copies_only_the_virtualenv(dockerfile: list[tuple[str, str]]) -> None:
    build, runtime = stages(dockerfile)[0], stages(dockerfile)[-1]
    assert len(stages(dockerfile)) >= 2
    build_name = build[0][1].split()[-1]
    assert f"--from={build_name}" in " ".join(args for kw, args in runtime if kw == "COPY")
    assert not any(kw == "RUN" and "pip install" in args for kw, args in runtime)


def test_base_images_are_pinned(dockerfile: list[tuple[str, str]]) -> None:
    for keyword, args in dockerfile:
        if keyword == "FROM":
            image = args.split()[0]
            assert ":" in image and not image.endswith(":latest"), image


def test_runs_as_non_root(dockerfile: list[tuple[str, str]]) -> None:
    users = [args for kw, args in stages(dockerfile)[-1] if kw == "USER"]
    assert users, "the runtime stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"runtime user is {users[-1]}"


def test_healthcheck_probes_the_health_endpoint(dockerfile: list[tuple[str, str]]) -> None:
    runtime = stages(dockerfile)[-1]
    checks = [args for kw, args in runtime if kw == "HEALTHCHECK"]
    assert len(checks) == 1 and "docker-healthcheck" in checks[0]
    copies = " ".join(args for kw, args in runtime if kw == "COPY")
    assert "infra/docker/healthcheck.py /usr/local/bin/docker-healthcheck" in copies
    assert "/health" in HEALTHCHECK.read_text()


def test_entrypoint_and_default_command(dockerfile: list[tuple[str, str]]) -> None:
    runtime = dict(stages(dockerfile)[-1])
    assert json.loads(runtime["ENTRYPOINT"]) == ["docker-entrypoint"]
    assert json.loads(runtime["CMD"]) == ["serve"]


def test_no_secrets_in_the_image(dockerfile: list[tuple[str, str]]) -> None:
    assert secret_settings(dockerfile) == []
    assert not any(kw == "COPY" and ".env" in args.split() for kw, args in dockerfile)


def test_secret_detector_finds_baked_in_secrets() -> None:
    sample = instructions(
        "FROM python:3.12-slim\n"
        "ENV DB_PASSWORD=hunter2 \\\n    APP_VERSION=blue\n"
        "ARG AWS_SECRET_ACCESS_KEY=abc\n"
        "ARG API_TOKEN\n"
        "ENV LEGACY_KEY value\n"
    )
    assert secret_settings(sample) == [
        "ENV DB_PASSWORD",
        "ARG AWS_SECRET_ACCESS_KEY",
        "ENV LEGACY_KEY",
    ]


def test_installed_extras_exist(dockerfile: list[tuple[str, str]]) -> None:
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    installs = [args for kw, args in dockerfile if kw == "RUN" and "pip install" in args]
    requested = re.findall(r"\.\[([a-z,]+)\]", " ".join(installs))
    assert requested, "the build installs the project with extras"
    for group in requested:
        assert set(group.split(",")) <= set(extras), group


# --- build context -------------------------------------------------------------------------------


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern decides; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern, pattern.replace("**/", "")] if "**/" in pattern else [pattern]
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, c) for p in prefixes for c in candidates):
            ignored = not negate
    return ignored


def test_copied_sources_exist_and_are_not_dockerignored(dockerfile: list[tuple[str, str]]) -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for keyword, args in dockerfile:
        if keyword == "COPY" and "--from=" not in args:
            sources += [a for a in args.split()[:-1] if not a.startswith("--")]
    assert "pyproject.toml" in sources and "infra/docker/entrypoint.sh" in sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not _ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    for private in (".git", "tests", ".venv-checkov", ".env", "infra/terraform"):
        assert _ignored(private, patterns), f"{private} would be sent to the Docker daemon"


# --- entry point ---------------------------------------------------------------------------------


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, Any]:
    """Fake gunicorn/expandcontract/alembic that record their arguments and DATABASE_URL."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "record.json"
    for name in ("gunicorn", "expandcontract", "alembic"):
        script = bindir / name
        script.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            f"json.dump({{'argv': sys.argv, 'url': os.environ.get('DATABASE_URL')}}, "
            f"open({str(record)!r}, 'w'))\n"
        )
        script.chmod(0o755)
    env = {
        "PATH": f"{bindir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "PORT": "9000",
    }
    return {"env": env, "record": record}


def run_entrypoint(stand_ins: dict[str, Any], *args: str, **env: str) -> Any:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**stand_ins["env"], **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    record = stand_ins["record"]
    recorded = json.loads(record.read_text()) if record.exists() else None
    return result, recorded


def test_entrypoint_serves_the_app_factory_with_gunicorn(stand_ins: dict[str, Any]) -> None:
    result, recorded = run_entrypoint(stand_ins, DATABASE_URL="postgresql://u@db/app")
    assert result.returncode == 0, result.stderr
    argv = recorded["argv"]
    assert Path(argv[0]).name == "gunicorn"
    assert argv[-1] == "app:create_app()"
    assert "0.0.0.0:9000" in argv and "/tmp" in argv
    assert recorded["url"] == "postgresql://u@db/app"


def test_entrypoint_runs_migration_commands(stand_ins: dict[str, Any]) -> None:
    for command in (["expandcontract", "upgrade", "expand"], ["alembic", "current"]):
        result, recorded = run_entrypoint(stand_ins, *command)
        assert result.returncode == 0, result.stderr
        assert [Path(recorded["argv"][0]).name, *recorded["argv"][1:]] == command


def test_entrypoint_builds_database_url_from_ecs_secrets(stand_ins: dict[str, Any]) -> None:
    password = "p@ss:w/rd%?#"
    result, recorded = run_entrypoint(
        stand_ins,
        "expandcontract",
        "status",
        DB_HOST="db.internal",
        DB_PORT="6432",
        DB_NAME="app",
        DB_USER="app_admin",
        DB_PASSWORD=password,
        DB_SSLMODE="require",
    )
    assert result.returncode == 0, result.stderr
    url = make_url(recorded["url"])
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app_admin",
        password,
        "db.internal",
        6432,
        "app",
    )
    assert url.query["sslmode"] == "require"


def test_entrypoint_refuses_unknown_commands(stand_ins: dict[str, Any]) -> None:
    result, recorded = run_entrypoint(stand_ins, "bash", "-c", "id")
    assert result.returncode == 64
    assert "unknown command 'bash'" in result.stderr
    assert recorded is None


# --- health probe --------------------------------------------------------------------------------


@pytest.fixture
def health_server() -> Iterator[dict[str, Any]]:
    """A local /health endpoint whose answer the test sets."""
    answer: dict[str, Any] = {"status": 200, "body": {"status": "healthy"}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            raw = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    answer["url"] = f"http://127.0.0.1:{server.server_address[1]}/health"
    yield answer
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def probe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env={**os.environ, "HEALTHCHECK_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_health_probe_healthy(health_server: dict[str, Any]) -> None:
    assert probe(health_server["url"]).returncode == 0


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, {"status": "unhealthy", "schema": "incompatible"}), (200, {"status": "degraded"})],
)
def test_health_probe_unhealthy(health_server: dict[str, Any], status: int, body: Any) -> None:
    health_server.update(status=status, body=body)
    result = probe(health_server["url"])
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_health_probe_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(f"http://127.0.0.1:{port}/health")
    assert result.returncode == 1 and "unhealthy" in result.stderr


def test_iam_auth_gives_every_new_connection_a_fresh_token(database_url: str) -> None:
    """A rotated credential never strands a long-running app task: each connection gets a token."""
    import importlib.util

    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    spec = importlib.util.spec_from_file_location(
        "rds_iam_auth", Path(__file__).resolve().parents[2] / "infra/docker/rds_iam_auth.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.install({}) is None  # off unless DB_IAM_AUTH asks for it

    url = sa.make_url(database_url)
    tokens = iter(["token-1", "token-2"])
    seen: list[str | None] = []

    def record(dialect: Any, record_: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.append(cparams.get("password"))

    listener = module.install({"DB_IAM_AUTH": "1", "DB_HOST": url.host}, token=lambda: next(tokens))
    assert listener is not None
    event.listen(Engine, "do_connect", record)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        for _ in range(2):
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        event.remove(Engine, "do_connect", record)
        event.remove(Engine, "do_connect", listener)
    assert seen == ["token-1", "token-2"]
