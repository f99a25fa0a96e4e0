"""The verdict weighs latency and the machine, not only errors.

Synthetic timelines pin the rules down (fast, exact); one real run at a load this machine
cannot serve shows that such a run is never reported safe.
"""

from __future__ import annotations

from datetime import UTC, datetime

from expandcontract.rehearsal.load import Sample
from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.report import Consistency, build_report
from expandcontract.rehearsal.timeline import PhaseRecord, Timeline


def _timeline(latencies: dict[str, list[float]], rps: float = 10.0) -> Timeline:
    """Phases of 10 s each, requests evenly spread, with the given latencies."""
    timeline = Timeline(started_at=0.0)
    start = 0.0
    for phase, values in latencies.items():
        timeline.phases.append(PhaseRecord(phase, start, start + 10.0))
        for index, latency in enumerate(values):
            at = start + index * 10.0 / len(values)
            timeline.samples.append(Sample(at, "read", "blue", 200, latency, False, False))
        start += 10.0
    return timeline


def _report(timeline: Timeline, rps: float = 10.0, **options: object):
    return build_report(
        timeline,
        mode="safe",
        started_at=datetime.now(UTC),
        options=RehearsalOptions(rps=rps, report_path=None, **options),  # type: ignore[arg-type]
        consistency=Consistency(checked=1),
    )


FAST = [20.0] * 100


def test_fast_and_complete_is_zero_downtime():
    report = _report(_timeline({"v1 live": FAST, "expand": FAST}))
    assert report.verdict == "zero-downtime" and report.ok


def test_a_stall_during_the_migration_is_not_zero_downtime():
    report = _report(_timeline({"v1 live": FAST, "expand": FAST[:97] + [1500.0] * 3}))
    assert report.verdict == "not zero-downtime"
    assert any("3 stalled request(s)" in r and "expand" in r for r in report.reasons)


def test_p99_over_the_limit_is_not_zero_downtime():
    slow = FAST[:90] + [700.0] * 10
    report = _report(_timeline({"v1 live": FAST, "expand": slow}))
    assert report.verdict == "not zero-downtime"
    assert any("--max-p99 500 ms" in r for r in report.reasons)
    assert _report(_timeline({"v1 live": FAST, "expand": slow}), max_p99_ms=800.0).ok


def test_a_machine_that_cannot_serve_the_baseline_is_inconclusive():
    slow = [1200.0] * 100
    report = _report(_timeline({"v1 live": slow, "expand": slow}))
    assert report.verdict == "inconclusive" and not report.ok
    assert any("cannot serve" in r for r in report.reasons)


def test_a_load_generator_that_falls_behind_is_inconclusive():
    report = _report(_timeline({"v1 live": FAST, "expand": FAST}), rps=50.0)
    assert report.verdict == "inconclusive"
    assert any("reached 10 of 50 requests/s" in r for r in report.reasons)


def test_failures_are_failures_even_on_a_busy_machine():
    timeline = _timeline({"v1 live": [1200.0] * 100, "expand": FAST})
    timeline.samples.append(Sample(15.0, "read", "green", 500, 10.0, True, False, "boom", "boom"))
    assert _report(timeline).verdict == "not zero-downtime"


def test_a_load_this_machine_cannot_serve_is_not_reported_safe(rehearse):
    run = rehearse("--rps", "1500", "--step-seconds", "0.5")

    assert run.exit_code == 1, run.output
    assert run.data["verdict"] in ("inconclusive", "not zero-downtime")
    assert "zero-downtime: zero failed" not in run.output
    assert run.data["totals"]["achieved_rps"] < 1500
