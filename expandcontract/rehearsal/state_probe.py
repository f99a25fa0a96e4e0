"""The state beyond the database, proven under the story: sessions, cache, events, exports, flags.

While the load runs, a probe thread plays users who cross between the live releases (as the
router would move them) and counts what did not survive the crossing:

- **sessions**: users signed in before green exists are checked on whichever release is live
  through shift, rollback, shift and contract; every round one more user signs in on one
  release and continues on the other (``sessions_lost``);
- **cache**: a customer read through one release (filling its cache) and then through the
  other must come back in the second release's shape (``cache_wrong_shape``);
- **exports**: an export written by one release is read by the other (``objects_unreadable``);
- **flags**: both releases must give each user the same ``structured_address_v1`` answer, and
  the v1 response must follow it (``flag_mismatches``), at the configured percentage;
- **events**: each live release runs its consumer (started when it deploys, stopped when it
  retires) on the shared queue; what one cannot read is dead-lettered (``messages_unreadable``).

Use: ``with StateRehearsal(workdir, naive=...) as state``; start the releases with
``env=state.env``; ``state.start(stage)`` once the load runs; ``state.stop()`` gives the figures.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expandcontract.rehearsal.probes import ProbeResult
from expandcontract.rehearsal.state_report import LOSS_KEYS, state_reasons
from expandcontract.rehearsal.state_services import FLAG_PERCENTAGE, StateServices

if TYPE_CHECKING:
    from expandcontract.rehearsal.stage import Stage

log = logging.getLogger("expandcontract.rehearsal")

FLAG = "structured_address_v1"
LONG_LIVED_USERS = 8
ROUND_SECONDS = 0.5


@dataclass
class StateFigures:
    """What crossed between the releases, and what did not survive the crossing."""

    measured: bool = True
    note: str | None = None
    redis: str = "none"
    sessions_checked: int = 0
    sessions_lost: int = 0
    cache_checked: int = 0
    cache_wrong_shape: int = 0
    objects_checked: int = 0
    objects_unreadable: int = 0
    messages_consumed: dict[str, int] = field(default_factory=dict)
    messages_versions: dict[str, int] = field(default_factory=dict)
    messages_unreadable: int = 0
    messages_dead_lettered: int = 0
    flag_checked: int = 0
    flag_mismatches: int = 0
    flag_share: float | None = None
    flag_percentage: int = FLAG_PERCENTAGE
    probe_errors: int = 0
    examples: list[str] = field(default_factory=list)
    # Loss figures that could not be measured (no Redis, no moto): ``None`` in the report.
    not_measured: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        if len(self.examples) < 12:
            self.examples.append(text)

    @property
    def losses(self) -> dict[str, int]:
        return {
            "sessions_lost": self.sessions_lost,
            "messages_unreadable": self.messages_unreadable,
            "cache_wrong_shape": self.cache_wrong_shape,
            "objects_unreadable": self.objects_unreadable,
        }

    def to_dict(self) -> dict[str, Any]:
        figures = asdict(self)
        for key in self.not_measured:
            figures[key] = None
        return figures


def _call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        raw, status, got = err.read(), err.code, dict(err.headers)
    except OSError:
        return 0, None, {}
    try:
        return status, json.loads(raw or b"null"), got
    except ValueError:
        return status, None, got


def _shape_ok(release: str, customer: Any) -> bool:
    address = customer.get("address") if isinstance(customer, dict) else None
    if address is None:
        return True
    return isinstance(address, dict) if release == "green" else isinstance(address, str)


class StateRehearsal:
    """The stand-in services plus the probe; a context manager around both."""

    def __init__(self, workdir: Path, *, naive: bool, rows: int, seed: int = 8) -> None:
        self.naive = naive
        self.rows = rows
        self.figures = StateFigures()
        self.services = StateServices(workdir, naive=naive)
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumers: dict[str, subprocess.Popen[bytes]] = {}
        self._long_lived: dict[str, str] = {}  # user -> cookie
        self._lost: set[str] = set()
        self._flag_users: dict[str, bool] = {}
        self._stage: Stage | None = None
        self._stopped = False

    @property
    def env(self) -> dict[str, str]:
        return self.services.env

    def __enter__(self) -> StateRehearsal:
        self.services.__enter__()
        self.figures.redis = self.services.redis_source
        notes = []
        if not self.services.redis_url:
            notes.append(
                "no Redis (set REDIS_URL or put redis-server on PATH): sessions stay in each "
                "process and the cache is off, so sessions and cache are not measured"
            )
            self.figures.not_measured += ["sessions_lost", "cache_wrong_shape"]
        if self.services.aws_missing:
            notes.append(self.services.aws_missing)
            self.figures.not_measured += ["messages_unreadable", "objects_unreadable"]
        self.figures.measured = not (notes and len(self.figures.not_measured) == 4)
        self.figures.note = "; ".join(notes) or None
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._halt()
        finally:
            self.services.stop()
            self._stopped = True

    @property
    def stopped(self) -> bool:
        """The consumers and the stand-in services are stopped (for the clean-up's report)."""
        return self._stopped

    @property
    def aws(self) -> bool:
        """SQS and S3 have a stand-in (moto's server), so events and exports are measured."""
        return bool(self.services.aws_url)

    def start(self, stage: Stage) -> None:
        self._stage = stage
        self._ensure_consumers()
        self._thread = threading.Thread(target=self._loop, name="state-probe", daemon=True)
        self._thread.start()

    def stop(self) -> StateFigures:
        """Stop probing, let the consumers empty the queue, and return the figures."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._check_long_lived()
        self._drain_queue()
        self._halt()
        f = self.figures
        for release, stats in self._consumer_stats().items():
            for producer, count in stats["consumed"].items():
                key = f"{producer}->{release}"
                f.messages_consumed[key] = f.messages_consumed.get(key, 0) + count
            for version, count in stats["versions"].items():
                f.messages_versions[version] = f.messages_versions.get(version, 0) + count
            f.messages_unreadable += sum(stats["unreadable"].values())
            f.messages_dead_lettered += stats["dead_lettered"]
            for reason, count in stats["unreadable"].items():
                f.fail(f"{release}'s consumer: {count} message(s) unreadable ({reason})")
        if self._flag_users:
            f.flag_share = round(sum(self._flag_users.values()) / len(self._flag_users), 3)
        return f

    # -- the probe loop ---------------------------------------------------------------------

    def _live(self) -> dict[str, str]:
        """URLs of the releases that are running and healthy now."""
        stage = self._stage
        live = {}
        for server in (stage.blue, stage.green) if stage else ():
            if server is not None and server.running and server.health()[0] == 200:
                live[server.release] = server.url
        return live

    def _loop(self) -> None:
        rounds = loops = 0
        while not self._stop.wait(ROUND_SECONDS):
            try:
                self._ensure_consumers()
                live = self._live()
                if not self._long_lived and "blue" in live:
                    self._sign_in_long_lived(live["blue"])
                if loops % 5 == 0:
                    self._check_long_lived()
                loops += 1
                if len(live) == 2:
                    first, second = ("blue", "green") if rounds % 2 == 0 else ("green", "blue")
                    self._cross(first, second, live, rounds)
                    rounds += 1
            except Exception as err:  # noqa: BLE001 - the probe must never end the rehearsal
                log.warning("state probe: %s", err)
                self.figures.probe_errors += 1
                self.figures.fail(f"probe error: {type(err).__name__}: {err}")

    def _cross(self, first: str, second: str, live: dict[str, str], rounds: int) -> None:
        a, b = live[first], live[second]
        redis = bool(self.services.redis_url)
        if redis:
            self._session_crossing(first, second, a, b)
            self._cache_crossing(second, a, b)
        if rounds % 3 == 0 and self.aws:
            self._export_crossing(first, second, a, b)
        self._flag_crossing(a, b)

    def _session_crossing(self, first: str, second: str, a: str, b: str) -> None:
        user = f"visitor-{self._random.randrange(10**9)}"
        status, _, headers = _call("POST", f"{a}/api/session", {"user": user})
        cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
        if status != 201 or not cookie:
            return  # not a crossing: the sign-in itself did not happen
        status, body, _ = _call("GET", f"{b}/api/session", headers={"Cookie": cookie})
        if status == 0:
            return  # the release went away (retired) or timed out: the load counts that
        self.figures.sessions_checked += 1
        if status != 200 or not isinstance(body, dict) or body.get("user") != user:
            self.figures.sessions_lost += 1
            self.figures.fail(f"session signed in on {first} unknown to {second} (HTTP {status})")

    def _sign_in_long_lived(self, blue: str) -> None:
        for i in range(LONG_LIVED_USERS):
            user = f"regular-{i}"
            status, _, headers = _call("POST", f"{blue}/api/session", {"user": user})
            cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
            if status == 201 and cookie:
                self._long_lived[user] = cookie

    def _check_long_lived(self) -> None:
        if not self.services.redis_url or not self._long_lived:
            return
        live = self._live()
        for user, cookie in self._long_lived.items():
            if user in self._lost or not live:
                continue
            release, url = self._random.choice(sorted(live.items()))
            status, body, _ = _call("GET", f"{url}/api/session", headers={"Cookie": cookie})
            if status == 0:
                continue
            self.figures.sessions_checked += 1
            if status != 200 or not isinstance(body, dict) or body.get("user") != user:
                self._lost.add(user)
                self.figures.sessions_lost += 1
                self.figures.fail(f"{user}, signed in on blue at the start, lost on {release}")

    def _cache_crossing(self, second: str, a: str, b: str) -> None:
        customer_id = self._random.randint(1, self.rows)
        status, _, _ = _call("GET", f"{a}/api/customers/{customer_id}")
        if status != 200:
            return
        status, body, _ = _call("GET", f"{b}/api/customers/{customer_id}")
        if status != 200:
            return
        self.figures.cache_checked += 1
        if not _shape_ok(second, body):
            self.figures.cache_wrong_shape += 1
            self.figures.fail(f"{second} served customer {customer_id} in the other's shape")

    def _export_crossing(self, first: str, second: str, a: str, b: str) -> None:
        status, made, _ = _call("POST", f"{a}/api/exports?limit=20")
        if status != 201 or not isinstance(made, dict):
            return
        status, body, _ = _call("GET", f"{b}/api/exports/{made['id']}")
        if status == 0:
            return  # the release went away or timed out: the load counts that
        self.figures.objects_checked += 1
        readable = status == 200 and isinstance(body, dict)
        if readable and not all(_shape_ok(second, c) for c in body.get("customers", [])):
            readable = False
        if not readable:
            self.figures.objects_unreadable += 1
            self.figures.fail(
                f"export {made['key']} by {first} unreadable by {second} (HTTP {status})"
            )

    def _flag_crossing(self, a: str, b: str) -> None:
        user = f"reader-{self._random.randrange(2000)}"
        answers = []
        for url in (a, b):
            status, body, _ = _call("GET", f"{url}/api/flags?user={user}")
            if status != 200 or not isinstance(body, dict):
                return
            answers.append(bool(body.get("flags", {}).get(FLAG)))
        customer_id = self._random.randint(1, self.rows)
        status, body, _ = _call(
            "GET", f"{b}/api/v1/customers/{customer_id}", headers={"X-User-Id": user}
        )
        self.figures.flag_checked += 1
        self._flag_users[user] = answers[0]
        behaved = status != 200 or ("address_parts" in body) is answers[1]
        if answers[0] != answers[1] or not behaved:
            self.figures.flag_mismatches += 1
            self.figures.fail(f"flag {FLAG} for {user}: blue/green/behaviour disagree")

    # -- consumers --------------------------------------------------------------------------

    def _ensure_consumers(self) -> None:
        """A release's consumer runs while the release is deployed: its own process
        (``python -m app.events``), as an ECS worker service would be."""
        stage = self._stage
        if stage is None or not self.aws:
            return
        for server in (stage.blue, stage.green):
            if server is None:
                continue
            name = server.release
            if server.running and name not in self._consumers:
                self._consumers[name] = self._start_consumer(name)
            elif not server.running and name in self._consumers:
                self._stop_consumer(name)

    def _start_consumer(self, release: str) -> subprocess.Popen[bytes]:
        from expandcontract.rehearsal.servers import _import_roots

        assert self._stage is not None
        workdir = self.services.workdir
        env = {
            **os.environ,
            **self.services.env,
            "APP_VERSION": release,
            "DATABASE_URL": self._stage.url,
            "LOG_LEVEL": "ERROR",  # unreadable messages are counted in the report instead
            "EVENTS_STATS_FILE": str(workdir / f"consumer-{release}.json"),
            "PYTHONPATH": _import_roots(),
        }
        log = (workdir / f"consumer-{release}.log").open("ab")
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "app.events"],
                env=env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()

    def _stop_consumer(self, release: str) -> None:
        process = self._consumers[release]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def _consumer_stats(self) -> dict[str, dict[str, Any]]:
        stats = {}
        for release in self._consumers:
            path = self.services.workdir / f"consumer-{release}.json"
            try:
                stats[release] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.figures.fail(
                    f"{release}'s consumer left no figures (see consumer-{release}.log)"
                )
        return stats

    def _drain_queue(self, timeout: float = 30.0) -> None:
        """Wait until the running consumers have emptied the queue."""
        if not any(p.poll() is None for p in self._consumers.values()):
            return
        time.sleep(1.0)  # the releases publish from background threads
        sqs = self.services.client("sqs")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            attributes = sqs.get_queue_attributes(
                QueueUrl=self.services.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            if not any(int(v) for v in attributes.values()):
                return
            time.sleep(0.5)
        self.figures.fail("the queue was not empty when the rehearsal ended")

    def _halt(self) -> None:
        self._stop.set()
        for release in list(self._consumers):
            self._stop_consumer(release)


def state_probe(stage: Stage) -> ProbeResult:
    """The probe registered in ``probes.PROBES``: stop the state rehearsal the run started
    (``stage.state``) and hand its loss figures, reasons and details to the report."""
    if stage.state is None:
        return ProbeResult()
    return probe_result(stage.state.stop())


def probe_result(state: StateFigures) -> ProbeResult:
    """The report's share of the figures: the four losses (``None``: not measured), the
    verdict's reasons, and every figure under ``state``."""
    figures = state.to_dict()
    return ProbeResult(
        figures={key: figures[key] for key in LOSS_KEYS},
        problems=state_reasons(figures),
        sections={"state": figures},
    )
