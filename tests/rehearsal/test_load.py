"""The load generator: open loop at the target rate, and what it writes.

A stand-in HTTP server (real sockets, real threads) plays the application, so what is
measured is the generator itself: it must not turn slow answers into its own queue.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.address import parse
from expandcontract.rehearsal.addresses import AddressBook
from expandcontract.rehearsal.customers import CustomerRegistry, Expected
from expandcontract.rehearsal.load import REJECTED_SUFFIX, LoadGenerator, Sample, workers_for

ANSWER_SECONDS = 0.3


class _Slow(BaseHTTPRequestHandler):
    """Answers every request after ANSWER_SECONDS, as blue would (echoing a written address)."""

    protocol_version = "HTTP/1.1"
    written: list[str] = []

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        if "address" in body:
            self.written.append(body["address"])
        time.sleep(ANSWER_SECONDS)
        data = json.dumps({"id": 1, "name": "n", "email": "e", **body}).encode()
        status = 201 if self.command == "POST" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Served-By", "blue")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    _Slow.written = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(url: str, rps: float, seconds: float, **kwargs: object) -> list[Sample]:
    registry = CustomerRegistry()
    book = AddressBook(3)
    for customer_id in range(1, 500):
        address = book.address()
        registry.record(Expected(customer_id, "n", "e", address, address.flat, False))
    samples: list[Sample] = []
    lock = threading.Lock()

    def sink(sample: Sample) -> None:
        with lock:
            samples.append(sample)

    generator = LoadGenerator(
        url,
        registry,
        sink,
        rps=rps,
        started_at=time.monotonic(),
        **kwargs,  # type: ignore[arg-type]
    )
    generator.start()
    time.sleep(seconds)
    generator.stop()
    return samples


def test_slow_answers_are_measured_not_queued_behind(slow_server: str) -> None:
    """At 200 requests/s and 300 ms answers, 60 requests are in flight: a generator with
    fewer threads falls behind, and its own backlog shows up as seconds of "latency"."""
    samples = _run(slow_server, rps=200, seconds=5)

    sent = sorted(s.latency_ms for s in samples if s.kind != "shed")
    lags = sorted(s.sent_lag_ms for s in samples if s.kind != "shed")
    assert len(sent) >= 0.9 * 200 * 5
    assert not [s for s in samples if s.kind == "shed"]
    p90 = sent[int(len(sent) * 0.9)]
    assert p90 < 900, f"p90 {p90:.0f} ms for {ANSWER_SECONDS * 1000:.0f} ms answers"
    assert lags[int(len(lags) * 0.9)] < 300


def test_workers_scale_with_the_rate() -> None:
    assert workers_for(10) == 48
    assert workers_for(200) == 200
    assert workers_for(5000) == 1024


def test_a_share_of_writes_carries_addresses_the_parser_rejects(slow_server: str) -> None:
    samples = _run(slow_server, rps=100, seconds=3, bad_share=0.25)

    written = _Slow.written
    rejected = [a for a in written if parse(a)[0] is None]
    assert written and 0.15 <= len(rejected) / len(written) <= 0.35, (len(rejected), len(written))
    assert all(a.strip() for a in rejected)  # blue stores them: never an empty address
    marked = [s for s in samples if s.kind.endswith(REJECTED_SUFFIX)]
    assert {s.kind for s in marked} <= {f"create{REJECTED_SUFFIX}", f"update{REJECTED_SUFFIX}"}
    assert len(marked) == len(rejected)


def test_bad_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="bad_share"):
        LoadGenerator(
            "http://127.0.0.1:1", CustomerRegistry(), print, rps=1, started_at=0, bad_share=2
        )
