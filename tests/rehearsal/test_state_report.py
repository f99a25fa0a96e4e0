"""The state figures in the report: the four loss keys at the top of the JSON, the reasons a
non-zero figure adds to the verdict, and the tables (no rehearsal run needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from expandcontract.rehearsal.html import render_html
from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.report import Consistency, build_report, print_summary
from expandcontract.rehearsal.state_probe import StateFigures, StateRehearsal, probe_result
from expandcontract.rehearsal.state_report import LOSS_KEYS
from expandcontract.rehearsal.timeline import Timeline


def _report(figures: StateFigures):
    timeline = Timeline()
    timeline.end()
    return build_report(
        timeline,
        mode="safe",
        started_at=datetime.now(UTC),
        options=RehearsalOptions(report_path=None),
        consistency=Consistency(checked=1),
        probes=probe_result(figures),
    )


def test_zero_losses_keep_the_verdict_and_reach_the_json() -> None:
    figures = StateFigures(sessions_checked=40, messages_consumed={"blue->green": 7})
    report = _report(figures)
    data = report.to_dict()
    assert {key: data[key] for key in LOSS_KEYS} == dict.fromkeys(LOSS_KEYS, 0)
    assert data["state"]["messages_consumed"] == {"blue->green": 7}
    assert report.failure_reasons == []


def test_each_loss_fails_the_verdict_and_shows_in_the_tables() -> None:
    figures = StateFigures(sessions_lost=3, messages_unreadable=2, cache_wrong_shape=1,
                           objects_unreadable=4, messages_dead_lettered=2)  # fmt: skip
    figures.fail("session signed in on blue unknown to green (HTTP 401)")
    report = _report(figures)
    assert not report.ok
    reasons = " ".join(report.reasons)
    for text in ("3 sessions lost", "2 messages unreadable", "1 cache wrong shape",
                 "4 objects unreadable", "2 message(s) dead-lettered"):  # fmt: skip
        assert text in reasons
    console = Console(record=True, width=160)
    print_summary(report, console, None)
    output = console.export_text()
    assert "State beyond the database" in output and "unknown to green" in output
    html = render_html(report)
    assert "State beyond the database" in html and "class=bad" in html


def test_without_moto_events_and_exports_are_not_measured(tmp_path, monkeypatch) -> None:
    """A plain ``pip install expandcontract`` has no moto: the rehearsal runs on, one line says
    what is not measured, the two figures are ``None`` (not 0) and fail nothing."""
    monkeypatch.setitem(__import__("sys").modules, "moto.server", None)  # import fails
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # given, so none is started
    with StateRehearsal(tmp_path, naive=False, rows=10) as state:
        assert not state.aws and state.env["EVENTS_QUEUE_URL"] == ""
        assert state.env["EXPORTS_BUCKET"] == ""
        figures = state.figures
    assert state.stopped
    assert figures.note is not None and "moto" in figures.note and "not measured" in figures.note
    report = _report(figures)
    data = report.to_dict()
    assert data["messages_unreadable"] is None and data["objects_unreadable"] is None
    assert data["sessions_lost"] == 0 and data["cache_wrong_shape"] == 0
    assert report.failure_reasons == []
    console = Console(record=True, width=160)
    print_summary(report, console, None)
    assert "events and exports are not measured" in console.export_text()
