"""The rehearsal end to end: the safe story proves zero downtime; the naive one shows breakage."""

from __future__ import annotations

import re

from click.testing import CliRunner

from expandcontract.cli import main

STORY = [
    "warm-up", "v1 live", "expand", "migrate", "deploy green", "shift", "rollback",
    "shift again", "soak", "contract", "blue retired",
]  # fmt: skip
NAIVE_STORY = [
    "warm-up", "v1 live", "expand", "migrate", "deploy green", "shift", "contract", "rollback",
    "shift again", "blue retired",
]  # fmt: skip


def test_the_story_ends_with_zero_failed_requests(safe_rehearsal):
    run = safe_rehearsal

    assert run.exit_code == 0, run.output
    # The table: a row per phase and the totals, with the columns the README quotes.
    for column in ("requests", "failed", "bad reads", "p50 ms", "p99 ms", "migrated"):
        assert column in run.output
    for phase in STORY:
        assert re.search(rf"│ {re.escape(phase)}\s+│", run.output), phase
    assert "zero failed requests, zero data mismatches" in run.output
    # The contract was refused while green soaked, then applied.
    assert "contract attempted early: refused (exit 3)" in run.output
    assert "quarantined rows (3)" in run.output

    data = run.data
    assert data["ok"] is True and data["reasons"] == []
    assert [p["phase"] for p in data["phases"]] == STORY
    assert data["totals"]["failed"] == 0 and data["totals"]["bad_reads"] == 0
    assert data["totals"]["requests"] > 200
    migrate = run.phase("migrate")
    assert migrate["rows_migrated"] >= 497 and migrate["rows_quarantined"] == 3
    assert "refused" in run.phase("soak")["note"]
    # Traffic really moved: blue alone first, green alone at the end, both during the shift.
    assert run.phase("v1 live")["blue_share"] == 1.0
    assert run.phase("blue retired")["green_share"] == 1.0
    assert 0 < run.phase("shift")["green_share"] < 1
    assert run.phase("rollback")["blue_share"] > 0.8
    consistency = data["consistency"]
    assert consistency["checked"] > 10 and consistency["mismatch_count"] == 0
    assert {q["reason"] for q in consistency["quarantined"]}
    assert data["timeline"]["series"] and len(data["timeline"]["phases"]) == len(STORY)
    # The state beyond the database survived every switch (sessions, cache, events, exports).
    for key in ("sessions_lost", "messages_unreadable", "cache_wrong_shape", "objects_unreadable"):
        assert data[key] == 0, (key, data["state"]["examples"])
    state = data["state"]
    assert state["sessions_checked"] > 0 and sum(state["messages_consumed"].values()) > 0
    assert state["messages_dead_lettered"] == 0 and state["flag_mismatches"] == 0


def test_the_report_opens_offline(safe_rehearsal):
    html = safe_rehearsal.html

    assert "<svg" in html and "traffic share" in html
    # Nothing to fetch: no external scripts, stylesheets, images or fonts.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(" not in html


def test_naive_mode_shows_what_breaks(rehearse):
    run = rehearse("--naive")

    assert run.exit_code == 1, run.output
    assert "NOT zero-downtime" in run.output
    data = run.data
    assert data["mode"] == "naive" and data["ok"] is False
    assert [p["phase"] for p in data["phases"]] == NAIVE_STORY
    # One malformed row aborts the one-shot backfill: nothing is migrated ...
    migrate = run.phase("migrate")
    assert migrate["rows_migrated"] == 0
    assert "value too long" in migrate["note"]
    # ... so green reads empty addresses, and blue fails once address is dropped under it.
    assert run.phase("shift")["bad_reads"] > 0
    assert run.phase("rollback")["failed"] > 0
    assert data["consistency"]["mismatch_count"] > 0
    # ALTER TABLE without a lock timeout queued behind the report query, and traffic with it.
    assert run.phase("expand")["stalled"] > 0
    # Sessions in process memory are lost on a switch; unversioned events are unreadable.
    assert data["sessions_lost"] > 0 and data["messages_unreadable"] > 0


def test_bad_options_are_usage_errors(tmp_path):
    runner = CliRunner()
    report_path = str(tmp_path / "report.html")

    steps = runner.invoke(main, ["rehearse", "--steps", "0"])
    soak = runner.invoke(main, ["rehearse", "--soak", "soon"])
    report = runner.invoke(main, ["rehearse", "--report", "/no/such/folder/report.html"])
    garbled = runner.invoke(
        main, ["rehearse", "--database-url", "not a url", "--report", report_path]
    )
    mysql = runner.invoke(
        main, ["rehearse", "--database-url", "mysql://u@db/app", "--report", report_path]
    )

    assert steps.exit_code == 2 and "--steps" in steps.output
    assert soak.exit_code == 2 and "cannot parse duration" in soak.output
    assert report.exit_code == 2 and "does not exist" in report.output
    assert garbled.exit_code == 2 and "invalid database URL" in garbled.output
    assert mysql.exit_code == 2 and "must point at a PostgreSQL server" in mysql.output
