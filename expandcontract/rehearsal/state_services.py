"""Local stand-ins for the services blue and green share beyond the database.

They speak the protocols production uses, so the app runs the same code paths:

- **SQS and S3**: moto's server (``moto[server]``) in a child process, on loopback; boto3 talks
  to it through ``AWS_ENDPOINT_URL``. The rehearsal creates the events queue, its dead-letter
  queue and a bucket with versioning on.
- **Redis** (sessions and the read cache, ElastiCache in production): ``REDIS_URL`` when given
  (keys under a per-run prefix, removed at the end), else a ``redis-server`` found on PATH,
  started on a free port with no persistence. Without either, sessions stay in each process
  and the session and cache figures are reported as not measured.
- **Feature flags**: a local JSON file (the AppConfig Data API's document shape).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from expandcontract.errors import ExpandContractError

FLAG_PERCENTAGE = 30
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class StateServicesError(ExpandContractError):
    """A local stand-in (moto's server, redis-server) could not be started."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise StateServicesError(
                    f"{what} exited with status {process.returncode}"
                ) from None
            if time.monotonic() > deadline:
                raise StateServicesError(f"{what} did not listen within {timeout:g}s") from None
            time.sleep(0.05)


class StateServices:
    """Start the stand-ins, hand out the apps' environment, stop and clean up (a context
    manager). ``naive`` configures the apps the naive way (sessions in process memory, one
    cache key version for both releases, unversioned messages and objects)."""

    def __init__(self, workdir: Path, *, naive: bool = False, redis_url: str | None = None) -> None:
        self.workdir = workdir
        self.naive = naive
        self.redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL") or None
        self.prefix = f"ec-rehearsal-{uuid.uuid4().hex[:8]}:"
        self.redis_source = "none"
        self.aws_url = ""
        self.queue_url = ""
        self.dlq_url = ""
        self.bucket = "customers-exports"
        self.flags_path = workdir / "flags.json"
        self._processes: list[subprocess.Popen[bytes]] = []
        self.aws_missing: str | None = None  # why SQS/S3 have no stand-in, if they have none

    def __enter__(self) -> StateServices:
        try:
            self._start_moto()
            self._start_redis()
            self._write_flags()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """Environment for a release's processes."""
        env = {
            **AWS_ENV,
            "AWS_ENDPOINT_URL": self.aws_url,
            "EVENTS_QUEUE_URL": self.queue_url,
            "EVENTS_DLQ_URL": self.dlq_url,
            "EXPORTS_BUCKET": self.bucket if self.aws_url else "",
            "FLAGS_FILE": str(self.flags_path),
            "FLAGS_REFRESH_SECONDS": "1",
            # Short polls: concurrent long polls on one queue stalled moto's server here.
            "EVENTS_WAIT_SECONDS": "0",
            "STATE_KEY_PREFIX": self.prefix,
            "STATE_FORMAT": "unversioned" if self.naive else "versioned",
            "REDIS_URL": self.redis_url or "",
            "SESSION_STORE": "memory" if self.naive or not self.redis_url else "redis",
        }
        if self.naive:
            env["CACHE_VERSION"] = "shared"  # unversioned: both releases read one key
            env["CACHE_PEER_VERSIONS"] = "shared"
        return env

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            config=Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard"}),
            endpoint_url=self.aws_url,
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )

    def _start_moto(self) -> None:
        try:
            import boto3  # noqa: F401
            import moto.server  # noqa: F401
        except ImportError:
            # A plain ``pip install expandcontract`` has no moto: the rehearsal still runs, the
            # releases get no queue or bucket, and events and exports are not measured.
            self.aws_missing = (
                "moto's server is not installed (pip install 'expandcontract[rehearsal]'): "
                "events and exports are not measured"
            )
            return
        port = _free_port()
        log = (self.workdir / "moto.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **AWS_ENV},
        )
        log.close()
        self._processes.append(process)
        _wait_port(port, process, "moto's server", 30.0)
        self.aws_url = f"http://127.0.0.1:{port}"
        sqs = self.client("sqs")
        self.dlq_url = sqs.create_queue(QueueName="customer-events-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # The consumer dead-letters unreadable messages itself, with the reason; the redrive
        # policy is the backstop for a consumer that crashes on one.
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
        self.queue_url = sqs.create_queue(
            QueueName="customer-events", Attributes={"RedrivePolicy": redrive}
        )["QueueUrl"]
        s3 = self.client("s3")
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})

    def _start_redis(self) -> None:
        if self.redis_url:
            self.redis_source = "REDIS_URL"
            return
        binary = shutil.which("redis-server")
        if binary is None:
            return
        port = _free_port()
        log = (self.workdir / "redis.log").open("ab")
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._processes.append(process)
        _wait_port(port, process, "redis-server", 10.0)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        self.redis_source = "redis-server"

    def _write_flags(self) -> None:
        document = {"structured_address_v1": {"enabled": True, "percentage": FLAG_PERCENTAGE}}
        self.flags_path.write_text(json.dumps(document), encoding="utf-8")

    def stop(self) -> None:
        """Stop what was started; remove this run's keys from a Redis that was given."""
        if self.redis_source == "REDIS_URL" and self.redis_url:
            self._forget_keys()
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        self._processes.clear()

    def _forget_keys(self) -> None:
        import redis

        try:
            client = redis.Redis.from_url(str(self.redis_url), socket_timeout=2)
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass  # best effort: the keys expire with their TTL anyway
