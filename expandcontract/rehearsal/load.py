"""The load generator: a steady, realistic mix of API calls through the router.

Open loop: requests are *scheduled* at a fixed rate and latency is measured from the scheduled
time, so a stall shows up as the latency every queued user felt (no coordinated omission).
Every response is checked: a 5xx, a connection error, a timeout or an unexpected status is a
failed request; a 200 whose customer differs from what was written is a *bad read*.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from expandcontract.rehearsal.addresses import AddressBook, parts_of
from expandcontract.rehearsal.customers import CustomerRegistry, Expected
from expandcontract.rehearsal.router import IDLE_SECONDS, SERVED_BY

REQUEST_TIMEOUT = 5.0
# A request that could not even be sent this long after it was due is dropped ("shed"): the
# machine cannot sustain the rate, and an ever-growing backlog would turn every later latency
# into queueing time. Longer than any stall the story provokes, so stalls are still measured.
MAX_LAG = 5.0
# Ids in a message, so failures group by kind: "/api/customers/17" -> "/api/customers/<id>".
_IDS = re.compile(r"(?<=/)\d+\b|(?<=customer )\d+\b")
# (kind, share): mostly reads, like a customer API; writes are flat addresses, which both
# releases accept, so a write is valid whichever release the router picks. "read_green" goes
# straight to green (a test listener's smoke traffic) as soon as green runs, before it gets
# any production traffic and while the backfill is still filling its columns.
MIX = (
    ("read", 0.56), ("read_v1", 0.08), ("read_green", 0.04), ("list", 0.04), ("create", 0.14),
    ("update", 0.14),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sample:
    """One request as the user saw it."""

    at: float  # scheduled, seconds since the rehearsal started
    kind: str
    served_by: str  # blue, green, router, or "-" when nothing answered
    status: int  # 0 when there was no response
    latency_ms: float
    failed: bool
    bad_read: bool
    detail: str = ""
    kind_of_failure: str = ""  # detail without ids and values, to group failures by
    sent_lag_ms: float = 0.0  # how late it was sent: the generator's own backlog


class _Outcome(Exception):
    """A check on a response failed (carries what the table and report show)."""

    def __init__(self, detail: str, *, bad_read: bool = False, kind: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.bad_read = bad_read
        self.kind = kind or _IDS.sub("<id>", detail)


class LoadGenerator:
    """Sends ``rps`` requests per second to ``base_url`` until stopped; records a :class:`Sample`
    for each via ``sink``."""

    def __init__(
        self,
        base_url: str,
        registry: CustomerRegistry,
        sink: Callable[[Sample], None],
        *,
        rps: float,
        started_at: float,
        workers: int = 48,
        seed: int = 8,
        green_url: Callable[[], str | None] | None = None,
    ) -> None:
        if rps <= 0:
            raise ValueError("rps must be positive")
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._registry = registry
        self._green_url = green_url or (lambda: None)
        self._sink = sink
        self._rps = rps
        self._t0 = started_at
        self._book = AddressBook(seed + 1)
        self._book_lock = threading.Lock()
        self._kinds = _weighted_cycle(MIX)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rehearsal-load")
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._connections_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LoadGenerator:
        self._thread = threading.Thread(target=self._schedule, name="rehearsal-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop scheduling and wait for the requests in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=False)
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _schedule(self) -> None:
        interval = 1.0 / self._rps
        next_at = time.monotonic()
        index = 0
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            kind = self._kinds[index % len(self._kinds)]
            index += 1
            self._pool.submit(self._run, kind, next_at)
            next_at += interval

    def _connection(self, port: int) -> http.client.HTTPConnection:
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = {}
        connection, last_used = connections.get(port, (None, 0.0))
        # Like the router (and an ALB), never reuse a connection idle long enough for the
        # server to be closing it: that request would fail for the client's sake alone.
        if connection is not None and time.monotonic() - last_used > IDLE_SECONDS:
            connection.close()
            connection = None
        if connection is None:
            connection = http.client.HTTPConnection(self._host, port, timeout=REQUEST_TIMEOUT)
            with self._connections_lock:
                self._connections.append(connection)
        connections[port] = (connection, time.monotonic())
        return connection

    def _call(
        self, method: str, path: str, body: Any = None, *, direct: str | None = None
    ) -> tuple[int, str, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        port = urlsplit(direct).port or 80 if direct else self._port
        connection = self._connection(port)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except BaseException:
            connection.close()
            self._local.connections.pop(port, None)
            raise
        served_by = response.getheader(SERVED_BY) or ("green" if direct else "-")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, served_by, data

    def _run(self, kind: str, scheduled: float) -> None:
        lag = time.monotonic() - scheduled
        if lag > MAX_LAG:
            self._sink(Sample(scheduled - self._t0, "shed", "-", 0, lag * 1000.0, False, False))
            return
        served_by, status, failed, bad_read, detail, group = "-", 0, False, False, "", ""
        customer: Expected | None = None
        self._local.last = (0, "-")
        if kind == "read_green" and self._green_url() is None:
            kind = "read"
        try:
            if kind in ("read", "read_v1", "read_green", "update"):
                customer = self._registry.checkout(recent=kind == "update")
                if customer is None:
                    kind = "list"
            handler = getattr(self, f"_do_{kind}")
            status, served_by = handler(customer)
        except _Outcome as outcome:
            failed, bad_read, detail = not outcome.bad_read, outcome.bad_read, outcome.detail
            group = outcome.kind
            status, served_by = self._last
        except (OSError, http.client.HTTPException) as err:
            failed, detail = True, f"{kind}: no response ({type(err).__name__})"
            group = detail
        finally:
            if customer is not None:
                self._registry.release(customer.id)
        done = time.monotonic()
        self._sink(
            Sample(
                at=scheduled - self._t0,
                kind=kind,
                served_by=served_by,
                status=status,
                latency_ms=(done - scheduled) * 1000.0,
                failed=failed,
                bad_read=bad_read,
                detail=detail,
                kind_of_failure=group,
                sent_lag_ms=lag * 1000.0,
            )
        )

    # The handlers return (status, served_by) or raise _Outcome; _last keeps both for the
    # failure path. It is per thread because each worker runs one request at a time.
    @property
    def _last(self) -> tuple[int, str]:
        return getattr(self._local, "last", (0, "-"))

    def _request(
        self, method: str, path: str, body: Any = None, *, direct: str | None = None
    ) -> tuple[int, str, Any]:
        status, served_by, data = self._call(method, path, body, direct=direct)
        self._local.last = (status, served_by)
        return status, served_by, data

    def _do_read(self, customer: Expected, direct: str | None = None) -> tuple[int, str]:
        path = f"/api/customers/{customer.id}"
        status, served_by, data = self._request("GET", path, direct=direct)
        _expect_status(status, 200, f"GET {path}", served_by)
        _check_customer(data, customer, served_by, self._registry.contracted)
        return status, served_by

    def _do_read_green(self, customer: Expected) -> tuple[int, str]:
        return self._do_read(customer, direct=self._green_url() or None)

    def _do_read_v1(self, customer: Expected) -> tuple[int, str]:
        status, served_by, data = self._request("GET", f"/api/v1/customers/{customer.id}")
        _expect_status(status, 200, f"GET /api/v1/customers/{customer.id}", served_by)
        _check_customer(data, customer, served_by, self._registry.contracted)
        return status, served_by

    def _do_list(self, _customer: None) -> tuple[int, str]:
        status, served_by, data = self._request("GET", "/api/customers")
        _expect_status(status, 200, "GET /api/customers", served_by)
        return status, served_by

    def _do_create(self, _customer: None) -> tuple[int, str]:
        with self._book_lock:
            name, email, address = self._book.name(), self._book.email("run"), self._book.address()
        body = {"name": name, "email": email, "address": address.flat}
        status, served_by, data = self._request("POST", "/api/customers", body)
        _expect_status(status, 201, "POST /api/customers", served_by)
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise _Outcome(f"POST /api/customers on {served_by}: no id in the reply")
        expected = Expected(data["id"], name, email, address, address.flat, written_in_run=True)
        self._registry.record(expected)
        _check_customer(data, expected, served_by)
        return status, served_by

    def _do_update(self, customer: Expected) -> tuple[int, str]:
        with self._book_lock:
            address = self._book.address()
            name = self._book.name() if customer.id % 3 == 0 else customer.name
        body: dict[str, Any] = {"address": address.flat}
        if name != customer.name:
            body["name"] = name
        status, served_by, data = self._request("PUT", f"/api/customers/{customer.id}", body)
        _expect_status(status, 200, f"PUT /api/customers/{customer.id}", served_by)
        expected = Expected(
            customer.id, name, customer.email, address, address.flat, written_in_run=True
        )
        # Record before checking: the write happened even if the reply looks wrong.
        self._registry.record(expected)
        _check_customer(data, expected, served_by)
        return status, served_by


def _expect_status(status: int, wanted: int, what: str, served_by: str) -> None:
    if status != wanted:
        raise _Outcome(f"{what} on {served_by}: HTTP {status}, expected {wanted}")


def _check_customer(
    data: Any, expected: Expected, served_by: str, contracted: bool = False
) -> None:
    """A 200 that does not show the customer as written is a bad read; so is an empty address
    where one exists (until the contract removes addresses the operator accepted as
    unparseable, with their originals kept in the quarantine)."""
    if not isinstance(data, dict):
        raise _Outcome(f"customer {expected.id} on {served_by}: reply is not a JSON object")
    if data.get("name") != expected.name or data.get("email") != expected.email:
        raise _Outcome(
            f"customer {expected.id} on {served_by}: name/email differ from what was written",
            bad_read=True,
        )
    if expected.address is None:
        # An address the parser rejects: it must still be shown, as written.
        shown = data.get("address")
        if isinstance(shown, dict):
            shown = shown.get("unparsed")
        if contracted or not expected.flat.strip() or shown == expected.flat:
            return
        raise _Outcome(
            f"customer {expected.id} on {served_by}: address {shown!r}, expected the "
            f"unparseable original {expected.flat!r}",
            bad_read=True,
            kind=f"customer <id> on {served_by}: an unparseable address is not shown",
        )
    seen = parts_of(data.get("address"))
    if seen is None:
        raise _Outcome(
            f"customer {expected.id} on {served_by}: empty or incomplete address", bad_read=True
        )
    if seen != expected.address:
        raise _Outcome(
            f"customer {expected.id} on {served_by}: address {seen.flat!r}, "
            f"expected {expected.flat!r}",
            bad_read=True,
            kind=f"customer <id> on {served_by}: address differs from what was written",
        )


def _weighted_cycle(mix: tuple[tuple[str, float], ...], slots: int = 50) -> list[str]:
    """A fixed interleaved sequence with the mix's proportions (deterministic, no clumping)."""
    sequence: list[str] = []
    credit = {kind: 0.0 for kind, _ in mix}
    for _ in range(slots):
        for kind, share in mix:
            credit[kind] += share
        kind = max(credit, key=lambda k: credit[k])
        credit[kind] -= 1.0
        sequence.append(kind)
    return sequence
