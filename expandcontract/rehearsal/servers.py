"""The blue and green releases as real HTTP servers: gunicorn, as in the container, on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from expandcontract.errors import ExpandContractError


class AppServerError(ExpandContractError):
    """A release could not be started or never became healthy."""


class AppServer:
    """One release of the reference app (``blue`` or ``green``) in its own process."""

    def __init__(
        self, release: str, database_url: str, workdir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.release = release
        self.env = env or {}  # the shared services' settings (state_services.py)
        self.database_url = database_url
        self.workdir = workdir
        self.log_path = workdir / f"{release}.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 90.0) -> AppServer:
        """Start gunicorn on a socket bound here (so the port is known and never collides)."""
        listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = listener.getsockname()[1]
        env = {
            **os.environ,
            "APP_VERSION": self.release,
            "DATABASE_URL": self.database_url,
            "ENVIRONMENT": "rehearsal",
            "REDIS_URL": "",  # hermetic: the rehearsal needs nothing but PostgreSQL
            "LOG_LEVEL": "WARNING",
            "EXPANDCONTRACT_REHEARSAL_PID": str(os.getpid()),
            "PYTHONPATH": _import_roots(),
            **self.env,
        }
        self._log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:expandcontract.rehearsal.gunicorn_conf",
                    "--bind",
                    f"fd://{listener.fileno()}",
                    "--no-control-socket",
                    "app:create_app()",
                ],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
            )
        finally:
            listener.close()  # gunicorn has its own copy
        deadline = time.monotonic() + timeout
        while self.health()[0] == 0:
            if self._process.poll() is not None:
                raise AppServerError(
                    f"{self.release} exited with status {self._process.returncode} while "
                    f"starting:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise AppServerError(f"{self.release} did not start within {timeout:g}s")
            time.sleep(0.1)
        return self

    def health(self) -> tuple[int, dict[str, Any]]:
        """``GET /health``: status code and body (0 and {} when nothing answers)."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                return err.code, json.loads(err.read() or b"{}")
            except ValueError:
                return err.code, {}
        except (OSError, ValueError):
            return 0, {}

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        """Poll ``/health`` until 200, like a target group's health check."""
        deadline = time.monotonic() + timeout
        status, body = self.health()
        while status != 200:
            if not self.running:
                raise AppServerError(f"{self.release} died:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AppServerError(
                    f"{self.release} is not healthy after {timeout:g}s: HTTP {status} {body}"
                )
            time.sleep(0.1)
            status, body = self.health()
        return body

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not go; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _import_roots() -> str:
    """PYTHONPATH for a release: the very ``expandcontract`` this process runs and the
    reference app, whatever the working directory or another installed copy."""
    from expandcontract.rehearsal.reference import package_parent, reference_root

    roots = [str(package_parent()), str(reference_root())]
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join(dict.fromkeys([*roots, *([existing] if existing else [])]))
