"""What happened when: samples, phases and events, and the per-phase figures made from them."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from expandcontract.rehearsal.load import Sample

# A request slower than this is counted as stalled (a user notices; an ALB would not time out).
STALL_MS = 1000.0
WARM_UP = "warm-up"


@dataclass
class PhaseRecord:
    """One phase of the story: its time span and the migration figures it produced."""

    name: str
    start: float
    end: float | None = None
    rows_migrated: int | None = None
    rows_quarantined: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PhaseStats:
    """The row of the table for one phase."""

    phase: str
    seconds: float
    requests: int
    shed: int  # due but never sent: the load generator fell behind (machine overloaded)
    failed: int
    bad_reads: int
    stalled: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    achieved_rps: float  # requests actually sent per second (the target is the --rps)
    blue_share: float
    green_share: float
    rows_migrated: int | None
    rows_quarantined: int | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Timeline:
    """Thread-safe collector the load generator and the story write into."""

    started_at: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    phases: list[PhaseRecord] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (t, kind, label)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (t, machine CPU %)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.monotonic() - self.started_at

    def add_sample(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def begin_phase(self, name: str) -> PhaseRecord:
        now = self.now()
        with self._lock:
            if self.phases and self.phases[-1].end is None:
                self.phases[-1].end = now
            record = PhaseRecord(name, now)
            self.phases.append(record)
        return record

    def end(self) -> None:
        with self._lock:
            if self.phases and self.phases[-1].end is None:
                self.phases[-1].end = self.now()

    def event(self, label: str, kind: str = "story") -> None:
        """A marker on the report's timeline (``kind`` picks its colour: story, traffic,
        guard, retry, release)."""
        with self._lock:
            self.events.append((self.now(), kind, label))

    def add_cpu(self, percent: float) -> None:
        with self._lock:
            self.cpu.append((self.now(), percent))

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def phase_stats(self) -> list[PhaseStats]:
        samples = sorted(self.snapshot(), key=lambda s: s.at)
        rows = []
        for record in self.phases:
            end = record.end if record.end is not None else self.now()
            inside = [s for s in samples if record.start <= s.at < end]
            rows.append(summarise(record, end, inside))
        return rows

    def totals(self) -> PhaseStats:
        """Every request of the run, whatever phase it fell in."""
        end = self.phases[-1].end if self.phases and self.phases[-1].end else self.now()
        samples = self.snapshot()
        whole = PhaseRecord("total", 0.0, end)
        migrated = [p.rows_migrated for p in self.phases if p.rows_migrated is not None]
        whole.rows_migrated = sum(migrated) if migrated else None
        quarantined = [p.rows_quarantined for p in self.phases if p.rows_quarantined is not None]
        whole.rows_quarantined = max(quarantined) if quarantined else None
        return summarise(whole, end, samples)

    def judged(self, skip: tuple[str, ...] = (WARM_UP,)) -> PhaseStats:
        """The requests the verdict's latency rules judge: all but the warm-up's (cold pools
        and first imports are not the migration's doing)."""
        end = self.phases[-1].end if self.phases and self.phases[-1].end else self.now()
        skipped = [(p.start, p.end or end) for p in self.phases if p.name in skip]
        samples = [s for s in self.snapshot() if not any(a <= s.at < b for a, b in skipped)]
        start = max((b for _, b in skipped), default=0.0)
        return summarise(PhaseRecord("judged", start, end), end, samples)

    def buckets(self) -> list[dict[str, Any]]:
        """Per-interval series for the chart: traffic share, latency, errors."""
        samples = self.snapshot()
        # The story's span: the final drain and the consistency check are not on the chart.
        last = self.phases[-1].end if self.phases and self.phases[-1].end else None
        duration = max(last or self.now(), 1e-6)
        width = bucket_width(duration)
        count = max(1, math.ceil(duration / width))
        bins: list[list[Sample]] = [[] for _ in range(count)]
        sent = [0] * count
        for sample in samples:
            if sample.kind != "shed" and sample.at < duration:
                bins[min(count - 1, max(0, int(sample.at / width)))].append(sample)
                went = sample.at + sample.sent_lag_ms / 1000.0
                if went < duration:
                    sent[min(count - 1, int(went / width))] += 1
        cpu = list(self.cpu)
        series = []
        for index, group in enumerate(bins):
            latencies = sorted(s.latency_ms for s in group)
            point: dict[str, Any] = {
                "t": round(index * width, 3),
                "requests": len(group),
                "sent_per_s": round(sent[index] / width, 1),
                "failed": sum(1 for s in group if s.failed),
                "bad_reads": sum(1 for s in group if s.bad_read),
                "p50_ms": _round(percentile(latencies, 50)),
                "p95_ms": _round(percentile(latencies, 95)),
                "p99_ms": _round(percentile(latencies, 99)),
            }
            for release in ("blue", "green"):
                mine = [s for s in group if s.served_by == release]
                point[release] = len(mine)
                point[f"{release}_p99_ms"] = _round(
                    percentile(sorted(s.latency_ms for s in mine), 99)
                )
                point[f"{release}_errors"] = sum(1 for s in mine if s.failed or s.bad_read)
            inside = [v for t, v in cpu if index * width <= t < (index + 1) * width]
            point["cpu"] = round(sum(inside) / len(inside), 1) if inside else None
            series.append(point)
        return series


def summarise(record: PhaseRecord, end: float, everything: list[Sample]) -> PhaseStats:
    samples = [s for s in everything if s.kind != "shed"]
    latencies = sorted(s.latency_ms for s in samples)
    answered = [s for s in samples if s.served_by in ("blue", "green")]
    blue = sum(1 for s in answered if s.served_by == "blue")
    return PhaseStats(
        phase=record.name,
        seconds=round(end - record.start, 2),
        requests=len(samples),
        shed=len(everything) - len(samples),
        failed=sum(1 for s in samples if s.failed),
        bad_reads=sum(1 for s in samples if s.bad_read),
        stalled=sum(1 for s in samples if s.latency_ms > STALL_MS),
        p50_ms=_round(percentile(latencies, 50)),
        p95_ms=_round(percentile(latencies, 95)),
        p99_ms=_round(percentile(latencies, 99)),
        max_ms=_round(latencies[-1] if latencies else None),
        achieved_rps=round(len(samples) / (end - record.start), 1) if end > record.start else 0.0,
        blue_share=round(blue / len(answered), 4) if answered else 0.0,
        green_share=round((len(answered) - blue) / len(answered), 4) if answered else 0.0,
        rows_migrated=record.rows_migrated,
        rows_quarantined=record.rows_quarantined,
        note=record.note,
    )


def bucket_width(duration: float) -> float:
    """Seconds per chart bucket: about 240 buckets, at least a quarter second."""
    return max(0.25, round(duration / 240, 2))


def percentile(ordered: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
