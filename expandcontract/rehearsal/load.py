"""The load generator: a steady, realistic mix of API calls through the router.

Open loop: requests are *scheduled* at a fixed rate and latency is measured from the scheduled
time, so a stall shows up as the latency every queued user felt (no coordinated omission).
Every response is checked: a 5xx, a connection error, a timeout or an unexpected status is a
failed request; a 200 whose customer differs from what was written is a *bad read*.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from expandcontract.rehearsal.addresses import Address, AddressBook, parts_of
from expandcontract.rehearsal.customers import CustomerRegistry, Expected
from expandcontract.rehearsal.router import IDLE_SECONDS, SERVED_BY

REQUEST_TIMEOUT = 5.0
# The worker threads (see workers_for): idle threads cost little, a starved generator a run.
MIN_WORKERS, MAX_WORKERS = 48, 1024
STALL_SECONDS = 1.0  # timeline.STALL_MS (timeline imports this module)
# A sample's kind gets this suffix when its write carried an address the parser rejects, or
# its read was of a customer whose address the parser rejects.
REJECTED_SUFFIX = "+rejected"
# A request that could not even be sent this long after it was due is dropped ("shed"): the
# machine cannot sustain the rate, and an ever-growing backlog would turn every later latency
# into queueing time. Longer than any stall the story provokes, so stalls are still measured.
MAX_LAG = 5.0
# Ids in a message, so failures group by kind: "/api/customers/17" -> "/api/customers/<id>".
_IDS = re.compile(r"(?<=/)\d+\b|(?<=customer )\d+\b")
# (kind, share): mostly reads, like a customer API; writes are flat addresses. A small share of
# them (``bad_share``) are addresses blue stores and the parser rejects: blue answers 201/200,
# green refuses them with a 400 naming the reason (both correct). "read_green" goes
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


def workers_for(rps: float) -> int:
    """Threads enough to keep a whole stall's worth of requests in flight at ``rps``.

    Open loop means the generator never waits for the system under test: with too few
    threads, slow answers would hold back the next requests and the generator's own queue
    would show up as latency (48 threads at 200 rps and 300 ms answers: 2.5 s "latency") and
    then as requests never sent. Requests slower than a stall are counted as such anyway.
    """
    return max(MIN_WORKERS, min(MAX_WORKERS, math.ceil(rps * STALL_SECONDS)))


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
        workers: int | None = None,
        seed: int = 8,
        green_url: Callable[[], str | None] | None = None,
        bad_share: float = 0.0,
    ) -> None:
        if rps <= 0:
            raise ValueError("rps must be positive")
        if not 0 <= bad_share <= 1:
            raise ValueError("bad_share is a fraction of the writes: 0 to 1")
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
        # Every n-th write carries a rejected address: evenly spread, so it happens in every
        # phase (before and after the backfill), not in clumps.
        self._bad_every = round(1 / bad_share) if bad_share else 0
        self._writes = 0
        self.workers = workers or workers_for(rps)
        self._pool = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="rehearsal-load"
        )
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
        self._local.rejected = False
        if kind == "read_green" and self._green_url() is None:
            kind = "read"
        try:
            if kind in ("read", "read_v1", "read_green", "update"):
                # Updates and the test listener's smoke reads prefer customers written during
                # the run (rejected addresses among them): the ones most likely to go wrong.
                customer = self._registry.checkout(recent=kind in ("update", "read_green"))
                if customer is None:
                    kind = "list"
            if kind.startswith("read") and customer is not None and customer.address is None:
                # A read of a customer whose address is rejected, while it must still show.
                self._local.rejected = not self._registry.contracted
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
        if self._local.rejected:
            kind = f"{kind}{REJECTED_SUFFIX}"
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

    def _new_address(self) -> tuple[Address | None, str]:
        """(parts, flat) of the next written address; parts None for a rejected one.
        Called under ``_book_lock``."""
        self._writes += 1
        if self._bad_every and self._writes % self._bad_every == 0:
            self._local.rejected = True
            return None, self._book.rejected()
        address = self._book.address()
        return address, address.flat

    def _do_create(self, _customer: None) -> tuple[int, str]:
        with self._book_lock:
            name, email = self._book.name(), self._book.email("run")
            address, flat = self._new_address()
        body = {"name": name, "email": email, "address": flat}
        status, served_by, data = self._request("POST", "/api/customers", body)
        if address is None and _refused_by_green(status, served_by, data, "POST /api/customers"):
            return status, served_by
        _expect_status(status, 201, "POST /api/customers", served_by)
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise _Outcome(f"POST /api/customers on {served_by}: no id in the reply")
        expected = Expected(data["id"], name, email, address, flat, written_in_run=True)
        self._registry.record(expected)
        _check_customer(data, expected, served_by)
        return status, served_by

    def _do_update(self, customer: Expected) -> tuple[int, str]:
        with self._book_lock:
            address, flat = self._new_address()
            name = self._book.name() if customer.id % 3 == 0 else customer.name
        body: dict[str, Any] = {"address": flat}
        if name != customer.name:
            body["name"] = name
        path = f"/api/customers/{customer.id}"
        status, served_by, data = self._request("PUT", path, body)
        if address is None and _refused_by_green(status, served_by, data, f"PUT {path}"):
            return status, served_by  # nothing written: the customer stays as it was
        _expect_status(status, 200, f"PUT {path}", served_by)
        expected = Expected(customer.id, name, customer.email, address, flat, written_in_run=True)
        # Record before checking: the write happened even if the reply looks wrong.
        self._registry.record(expected)
        _check_customer(data, expected, served_by)
        return status, served_by


def _refused_by_green(status: int, served_by: str, data: Any, what: str) -> bool:
    """True when green refused a rejected address as it should (a 400 that says why);
    False when another release answered (the caller checks that answer)."""
    if served_by != "green":
        return False
    message = data.get("message") if isinstance(data, dict) else None
    if status != 400 or not isinstance(message, str) or "address" not in message:
        raise _Outcome(
            f"{what} on green: HTTP {status} for an address the parser rejects, expected a "
            "400 that names the address"
        )
    return True


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
        # An address the parser rejects: it must still be shown, as written (green: as
        # ``unparsed``, with the parts it could not parse and why).
        shown = data.get("address")
        if contracted or not expected.flat.strip():
            return
        if isinstance(shown, dict):
            if not shown.get("reason") or not shown.get("invalid"):
                raise _Outcome(
                    f"customer {expected.id} on {served_by}: an unparsed address without "
                    "'invalid' and 'reason'",
                    bad_read=True,
                    kind=f"customer <id> on {served_by}: an unparsed address does not say why",
                )
            shown = shown.get("unparsed")
        if shown == expected.flat:
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
