"""Shared services for the state tests: real Redis and moto's server (SQS, S3).

Redis: ``REDIS_URL`` when set, else the machine's Redis on 127.0.0.1:6379 when it answers
(CI runs one), else a ``redis-server`` started for the session. SQS and S3: moto's server in a
child process. Both through :class:`StateServices`, the stand-ins the rehearsal uses.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from expandcontract.rehearsal.state_services import AWS_ENV, StateServices

LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.3).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def state_services() -> Iterator[StateServices]:
    given = os.environ.get("REDIS_URL") or (LOCAL_REDIS if _reachable(LOCAL_REDIS) else "")
    saved = {key: os.environ.get(key) for key in AWS_ENV}
    os.environ.update(AWS_ENV)  # the apps' boto3 clients read credentials from here
    with (
        tempfile.TemporaryDirectory(prefix="ec-state-") as workdir,
        StateServices(Path(workdir), redis_url=given) as services,
    ):
        yield services
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def app_settings(services: StateServices, **overrides: Any) -> dict[str, Any]:
    """``create_app`` settings for a release using every shared service."""
    env = services.env
    settings: dict[str, Any] = {
        key: env[key]
        for key in (
            "AWS_ENDPOINT_URL", "EVENTS_QUEUE_URL", "EVENTS_DLQ_URL", "EXPORTS_BUCKET",
            "FLAGS_FILE", "STATE_KEY_PREFIX", "REDIS_URL",
        )
    }  # fmt: skip
    settings.update(
        SESSION_STORE="redis",
        SESSION_REDIS_URL=services.redis_url,
        STATE_FORMAT="versioned",
        FLAGS_REFRESH_SECONDS=0.0,
    )
    settings.update(overrides)
    return settings


def drain(client: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now on a queue (received and deleted), with its attributes."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = client.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        if not batch:
            return messages
        for message in batch:
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)


@pytest.fixture
def state_app(start_app: Any, state_services: StateServices) -> Any:
    """``state_app("blue", **settings)``: a release on every shared service. Blue and green of
    one test share a key prefix of their own, so no test reads another's sessions or cache."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    drain(state_services.client("sqs"), state_services.queue_url)
    drain(state_services.client("sqs"), state_services.dlq_url)

    def start(version: str, **overrides: Any) -> Any:
        settings = app_settings(state_services, STATE_KEY_PREFIX=prefix, **overrides)
        return start_app(version, **settings)

    return start


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (a service that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
