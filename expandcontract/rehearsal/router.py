"""A local weighted router: the rehearsal's stand-in for the load balancer.

Two backends (blue and green) behind one loopback port; each request goes to one of them at
random in proportion to the current weights, like an ALB listener with two weighted target
groups. Like an ALB it does not health-check across target groups: a rollback to a broken
blue really does send traffic to a broken blue. Every response carries ``X-Served-By`` so the
client can tell which release answered.
"""

from __future__ import annotations

import http.client
import queue
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVED_BY = "X-Served-By"
# Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1).
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
}
BACKEND_TIMEOUT = 30.0
# Close pooled backend connections idle for longer than this; the apps keep them for 75 s.
IDLE_SECONDS = 30.0


class _Backend:
    """One target: its address and a small pool of keep-alive connections."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self._idle: queue.SimpleQueue[tuple[float, http.client.HTTPConnection]] = (
            queue.SimpleQueue()
        )
        self.closed = False
        self._closing = threading.Lock()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=BACKEND_TIMEOUT)

    def acquire(self) -> http.client.HTTPConnection:
        """A pooled connection that has not been idle too long, or a new one."""
        while True:
            try:
                since, connection = self._idle.get_nowait()
            except queue.Empty:
                return self.connect()
            if time.monotonic() - since < IDLE_SECONDS:
                return connection
            connection.close()

    def release(self, connection: http.client.HTTPConnection) -> None:
        with self._closing:
            if not self.closed:
                self._idle.put((time.monotonic(), connection))
                return
        connection.close()  # the backend was removed while this request was in flight

    def close(self) -> None:
        with self._closing:
            self.closed = True
        while True:
            try:
                self._idle.get_nowait()[1].close()
            except queue.Empty:
                return


class WeightedRouter:
    """A threaded HTTP reverse proxy on 127.0.0.1 with adjustable blue/green weights.

    Use as a context manager; ``url`` is where clients connect. ``set_weights(blue=90,
    green=10)`` shifts traffic at once (requests in flight finish where they started).
    """

    def __init__(self, backends: dict[str, int] | None = None) -> None:
        self._lock = threading.Lock()
        self._backends: dict[str, _Backend] = {}
        self._weights: dict[str, float] = {}
        self._random = random.Random()
        for name, port in (backends or {}).items():
            self.add_backend(name, port)
        self._server = _RouterServer(("127.0.0.1", 0), _ProxyHandler, self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_backend(self, name: str, port: int, weight: float = 0.0) -> None:
        """Register (or re-point) a backend; it gets no traffic until it has weight."""
        with self._lock:
            old = self._backends.get(name)
            self._backends[name] = _Backend(name, port)
            self._weights[name] = weight
        if old is not None:
            old.close()

    def remove_backend(self, name: str) -> None:
        """Forget a backend (a retired release); it must have no weight left."""
        with self._lock:
            if self._weights.get(name):
                raise ValueError(f"backend {name} still has weight {self._weights[name]}")
            backend = self._backends.pop(name, None)
            self._weights.pop(name, None)
        if backend is not None:
            backend.close()

    def set_weights(self, **weights: float) -> None:
        """Set the share of new requests per backend (any scale; 0 means no traffic)."""
        with self._lock:
            unknown = set(weights) - set(self._backends)
            if unknown:
                raise ValueError(f"unknown backend(s): {', '.join(sorted(unknown))}")
            if any(w < 0 for w in weights.values()):
                raise ValueError("weights must not be negative")
            self._weights.update(weights)

    def choose(self) -> _Backend | None:
        """Pick the backend for one request, in proportion to the weights."""
        with self._lock:
            names = [n for n, w in self._weights.items() if w > 0]
            if not names:
                return None
            weights = [self._weights[n] for n in names]
            name = self._random.choices(names, weights)[0]
            return self._backends[name]

    def start(self) -> WeightedRouter:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="rehearsal-router", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        with self._lock:
            backends = list(self._backends.values())
        for backend in backends:
            backend.close()

    def __enter__(self) -> WeightedRouter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _RouterServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many keep-alive clients at once; the default backlog of 5 refuses bursts.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], handler: type, router: WeightedRouter) -> None:
        self.router = router
        super().__init__(address, handler)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK of the headers, adding ~40 ms to every request on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _RouterServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the load generator records every request."""

    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        backend = self.server.router.choose()
        if backend is None:
            self._reply(503, b'{"error": "no backend has traffic"}', "router")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            status, reply_headers, payload = _forward(
                backend, self.command, self.path, body, headers
            )
        except (OSError, http.client.HTTPException) as err:
            message = f'{{"error": "bad gateway: {type(err).__name__}"}}'.encode()
            self._reply(502, message, backend.name)
            return
        self.send_response(status)
        for key, value in reply_headers:
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header(SERVED_BY, backend.name)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reply(self, status: int, body: bytes, served_by: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header(SERVED_BY, served_by)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _proxy


def _forward(
    backend: _Backend, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request over a pooled connection; if that one went stale, once more over a new
    connection (the backend closed it unread, so nothing was processed twice)."""
    for attempt in (1, 2):
        connection = backend.acquire() if attempt == 1 else backend.connect()
        fresh = connection.sock is None
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
            connection.close()
            # A pooled connection the backend closed while idle; a fresh one failing is real.
            if fresh or attempt == 2:
                raise
            continue
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            backend.release(connection)
        return response.status, response.getheaders(), payload
    raise AssertionError("unreachable")
