"""The weighted router: traffic goes where the weights say, and says who served it."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from expandcontract.rehearsal.router import SERVED_BY, WeightedRouter


class _Named(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each reply waits ~40 ms for a delayed ACK

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def backends() -> Iterator[dict[str, int]]:
    servers = {}
    for name in ("blue", "green"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
        server.daemon_threads = True
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def _send(router: WeightedRouter, count: int) -> Counter[tuple[str, str]]:
    seen: Counter[tuple[str, str]] = Counter()
    connection = http.client.HTTPConnection("127.0.0.1", router.port, timeout=5)
    try:
        for _ in range(count):
            connection.request("GET", "/health")
            response = connection.getresponse()
            seen[(response.getheader(SERVED_BY) or "", response.read().decode())] += 1
    finally:
        connection.close()
    return seen


def test_weights_decide_who_serves(backends):
    with WeightedRouter(backends) as router:
        router.set_weights(blue=100, green=0)
        assert _send(router, 20) == {("blue", "blue"): 20}

        router.set_weights(blue=0, green=100)
        assert _send(router, 20) == {("green", "green"): 20}

        router.set_weights(blue=50, green=50)
        split = _send(router, 200)
        assert set(split) == {("blue", "blue"), ("green", "green")}
        assert 60 < split[("green", "green")] < 140


def test_kept_alive_requests_are_not_held_back_by_nagle(backends):
    # Headers and body are two writes; with Nagle on, each reply waited for the client's
    # delayed ACK (~40 ms), so 50 requests took 2 s or more.
    with WeightedRouter(backends) as router:
        router.set_weights(blue=100)
        _send(router, 5)
        started = time.monotonic()
        _send(router, 50)
        assert time.monotonic() - started < 1.5


def test_no_weight_is_503_and_a_dead_backend_is_502(backends):
    with WeightedRouter(backends) as router:
        assert _send(router, 1) == {("router", '{"error": "no backend has traffic"}'): 1}

        router.add_backend("gone", 1, weight=1)  # nothing listens on port 1
        router.set_weights(blue=0, green=0)
        connection = http.client.HTTPConnection("127.0.0.1", router.port, timeout=5)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert (response.status, response.getheader(SERVED_BY)) == (502, "gone")
        connection.close()


def test_unknown_backends_and_retiring_a_live_one_are_refused(backends):
    with WeightedRouter(backends) as router:
        with pytest.raises(ValueError, match="unknown backend"):
            router.set_weights(purple=10)
        router.set_weights(blue=10)
        with pytest.raises(ValueError, match="still has weight"):
            router.remove_backend("blue")
