"""Customer events on a queue (SQS): each release publishes its own version, reads both.

Blue publishes ``customer.created``/``customer.updated`` v1 (flat address), green v2
(structured). A write's event is published after its commit, from a background thread, so a
slow or absent queue costs a request nothing; failures are counted and logged.

The consumer (``python -m app.events``, one per release, like an ECS worker service) decodes
either version into its own; a message it cannot read goes to the dead-letter queue with the
reason as a message attribute and is deleted from the main queue, so nothing is lost and the
consumer never crashes on it.

``STATE_FORMAT=unversioned`` is the naive way, for the rehearsal's ``--naive``: bare payloads
with no envelope, read as if they were the reader's own shape, and dropped when they are not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.shapes import event_payload, event_registry, record_type
from expandcontract.state import MessageError, Registry

log = logging.getLogger("customers.events")


def sqs_client(
    endpoint_url: str | None = None, region: str | None = None, read_timeout: int = 5
) -> Any:
    """An SQS client that gives up fast: the queue is optional, a request must not hang on it."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=1,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return boto3.client("sqs", endpoint_url=endpoint_url or None, region_name=region, config=config)


@dataclass
class PublisherStats:
    published: int = 0
    errors: int = 0
    dropped: int = 0


class Publisher:
    """Sends events from one background thread (started on first use, so after a fork)."""

    def __init__(self, release: str, queue_url: str, client: Any, *, versioned: bool) -> None:
        self.release = release
        self.queue_url = queue_url
        self.client = client
        self.versioned = versioned
        self.registry: Registry = event_registry(release)
        self.stats = PublisherStats()
        self._pending: queue.Queue[str] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, event_type: str, customer: dict[str, Any]) -> None:
        """Queue the event of a committed write (never raises)."""
        payload = event_payload(customer)
        try:
            if self.versioned:
                body = self.registry.encode(event_type, payload)
            else:
                body = json.dumps({"type": event_type, **payload})
        except MessageError as err:  # our own write does not fit our own schema: a bug
            self.stats.errors += 1
            log.error("event not published: %s", err)
            return
        try:
            self._pending.put_nowait(body)
        except queue.Full:
            self.stats.dropped += 1
            log.warning("event queue full: %s dropped", event_type)
            return
        self._ensure_thread()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was sent or failed (tests, shutdown); False if
        ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        while self._pending.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._send, name="events", daemon=True)
                self._thread.start()

    def _send(self) -> None:
        while True:
            body = self._pending.get()
            try:
                self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
                self.stats.published += 1
            except Exception as err:  # noqa: BLE001 - the queue is optional; count and go on
                self.stats.errors += 1
                log.warning("event not published (queue unavailable): %s", err)
            finally:
                self._pending.task_done()


@dataclass
class ConsumerStats:
    consumed: Counter[str] = field(default_factory=Counter)  # by producer
    versions: Counter[str] = field(default_factory=Counter)  # by schema version as written
    unreadable: Counter[str] = field(default_factory=Counter)  # by reason
    dead_lettered: int = 0
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumed": dict(self.consumed),
            "versions": dict(self.versions),
            "unreadable": dict(self.unreadable),
            "dead_lettered": self.dead_lettered,
            "dropped": self.dropped,
        }


class Consumer:
    """Reads customer events as ``release`` does. ``poll_once`` never raises for a message."""

    def __init__(
        self,
        release: str,
        client: Any,
        queue_url: str,
        dlq_url: str | None,
        *,
        versioned: bool = True,
        wait_seconds: int = 10,
    ) -> None:
        self.release = release
        self.wait_seconds = wait_seconds  # SQS long polling; 0 polls and idles 0.2 s
        self.client = client
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.versioned = versioned
        self.registry = event_registry(release)
        self.stats = ConsumerStats()

    def poll_once(self, wait_seconds: int | None = None) -> int:
        """Receive and handle up to 10 messages; returns how many were received."""
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        response = self.client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        )
        messages = response.get("Messages", [])
        for message in messages:
            self._handle(message)
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if not self.poll_once() and not self.wait_seconds:
                    stop.wait(0.2)
            except Exception as err:  # noqa: BLE001 - a queue outage must not end the worker
                log.warning("consumer %s: queue unavailable: %s", self.release, err)
                stop.wait(1.0)

    def _handle(self, message: dict[str, Any]) -> None:
        body = message.get("Body", "")
        try:
            producer = self._read(body)
        except MessageError as err:
            self.stats.unreadable[err.reason] += 1
            log.warning("consumer %s: unreadable message (%s): %s", self.release, err.reason, err)
            if self.versioned and self.dlq_url:
                self._dead_letter(body, err)
            else:
                self.stats.dropped += 1  # the naive consumer has nowhere to put it
        else:
            self.stats.consumed[producer] += 1
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _read(self, body: str) -> str:
        if self.versioned:
            decoded = self.registry.decode(body)
            self.stats.versions[f"v{decoded.written_version}"] += 1
            return decoded.producer or "unknown"
        # Naive: a bare payload, assumed to be in the reader's own shape.
        try:
            payload = json.loads(body)
            payload.pop("type")
        except (ValueError, AttributeError, KeyError, TypeError) as err:
            raise MessageError(f"not a customer event: {err}") from None
        shape = record_type(self.release)
        shape.validate(payload, shape.current)
        return "unknown"

    def _dead_letter(self, body: str, err: MessageError) -> None:
        self.client.send_message(
            QueueUrl=self.dlq_url,
            MessageBody=body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": err.reason},
                "error": {"DataType": "String", "StringValue": str(err)[:1000]},
                "consumer": {"DataType": "String", "StringValue": self.release},
            },
        )
        self.stats.dead_lettered += 1


def main() -> None:
    """``python -m app.events``: run this release's consumer until interrupted."""
    import signal

    from app.config import load_config

    config = load_config()
    if not config.get("EVENTS_QUEUE_URL"):
        raise SystemExit("set EVENTS_QUEUE_URL (and EVENTS_DLQ_URL) to run the consumer")
    logging.basicConfig(level=config["LOG_LEVEL"])
    wait = config["EVENTS_WAIT_SECONDS"]
    consumer = Consumer(
        config["APP_VERSION"],
        sqs_client(config.get("AWS_ENDPOINT_URL"), read_timeout=wait + 10),
        config["EVENTS_QUEUE_URL"],
        config.get("EVENTS_DLQ_URL"),
        versioned=config["STATE_FORMAT"] == "versioned",
        wait_seconds=wait,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        consumer.run(stop)
    stats = json.dumps(consumer.stats.to_dict())
    log.info("consumer stopped: %s", stats)
    if config.get("EVENTS_STATS_FILE"):
        Path(config["EVENTS_STATS_FILE"]).write_text(stats, encoding="utf-8")


if __name__ == "__main__":
    main()
