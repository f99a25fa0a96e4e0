"""The rehearsal end to end: the safe story proves zero downtime; the naive one shows breakage."""

from __future__ import annotations

import re

from click.testing import CliRunner

from expandcontract.cli import main

STORY = [
    "warm-up", "v1 live", "expand", "deploy green", "migrate", "shift", "rollback",
    "shift again", "soak", "contract", "blue retired",
]  # fmt: skip
NAIVE_STORY = [
    "warm-up", "v1 live", "expand", "migrate", "deploy green", "shift", "contract", "rollback",
    "shift again", "blue retired",
]  # fmt: skip


def test_the_story_ends_with_zero_failed_requests(safe_rehearsal):
    run = safe_rehearsal
    data = run.data

    # The table: a row per phase and the totals, with the columns the README quotes.
    for column in ("requests", "failed", "bad reads", "p50 ms", "p95 ms", "p99 ms", "migrated"):
        assert column in run.output
    for phase in STORY:
        assert re.search(rf"│ {re.escape(phase)}\s+│", run.output), phase
    # The contract was refused while green soaked, then applied.
    assert "contract attempted early: refused (exit 3)" in run.output
    assert re.search(r"quarantined rows \(\d+\)", run.output)
    # Green took test traffic before the backfill finished (and showed every address).
    early = [run.phase(p) for p in ("deploy green", "migrate")]
    assert sum(p["requests"] * p["green_share"] for p in early) > 0
    assert [p["phase"] for p in data["phases"]] == STORY
    assert data["totals"]["failed"] == 0 and data["totals"]["bad_reads"] == 0
    assert data["totals"]["requests"] > 200
    migrate = run.phase("migrate")
    # Rows blue updated between the expand and the backfill were already split by the sync
    # trigger, so the backfill converts the rest (plus rows the run created meanwhile).
    # Quarantined: the 3 seeded malformed rows and the rejected addresses blue stored before.
    stored_early = data["rejected_addresses"]["stored_before_backfill"]
    assert migrate["rows_migrated"] > 300 and 3 <= migrate["rows_quarantined"] <= 3 + stored_early
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
    assert data["cleanup"]["left_behind"] == [] and data["cleanup"]["removed"]
    # The state beyond the database survived every switch (sessions, cache, events, exports).
    for key in ("sessions_lost", "messages_unreadable", "cache_wrong_shape", "objects_unreadable"):
        assert data[key] == 0, (key, data["state"]["examples"])
    state = data["state"]
    assert state["sessions_checked"] > 0 and sum(state["messages_consumed"].values()) > 0
    assert state["messages_dead_lettered"] == 0 and state["flag_mismatches"] == 0

    # A starved machine (busy CI neighbours) cannot prove zero downtime: the run then says
    # so ("inconclusive", exit 1) rather than passing; it never finds a failure above.
    if data["verdict"] == "inconclusive":
        assert run.exit_code == 1 and "INCONCLUSIVE" in run.output
        assert any("cannot serve" in r or "requests/s" in r for r in data["reasons"])
        return
    machine = data["context"]["machine"]
    if data["verdict"] != "zero-downtime" and machine["cpu_percent_mean"] >= 90:
        # Slow requests on a machine others keep 90 %+ busy, with a healthy baseline: the
        # verdict rightly refuses to pass; only latency may be its reason, never an error.
        assert run.exit_code == 1
        assert all("stalled" in r or "p99" in r or "CPU" in r for r in data["reasons"]), data
        return
    assert run.exit_code == 0, run.output
    assert "the migration was zero-downtime" in run.output
    assert data["ok"] is True and data["reasons"] == [] and data["verdict"] == "zero-downtime"


def test_late_rejected_addresses_are_shown_quarantined_and_resolved(safe_rehearsal):
    """Blue stores addresses the parser rejects before and after the backfill: green shows
    them as written until the contract, the contract sweeps the late ones into quarantine and
    refuses, the rehearsal runs the commands the refusal names, and the contract goes through."""
    data = safe_rehearsal.data
    rejected, quarantine = data["rejected_addresses"], data["quarantine"]

    assert rejected["stored_before_backfill"] > 0 and rejected["stored_after_backfill"] > 0
    assert rejected["refused_by_green"] > 0  # green's 400 is the right answer, not a failure
    # Green showed them (unparsed, with the reason) and never a null address: a null would
    # have been a bad read.
    assert rejected["read_through_green"] > 0
    assert data["totals"]["bad_reads"] == 0 and data["totals"]["failed"] == 0
    assert data["consistency"]["mismatch_count"] == 0

    # The contract refused (for quarantined rows, naming the commands) and then went through.
    assert quarantine["quarantined_late"] > 0 and quarantine["quarantined_by_backfill"] >= 3
    [refusal] = quarantine["contract_refusals"]
    assert "quarantined row(s) of customers are unresolved" in refusal
    assert "expandcontract quarantine list" in refusal
    assert (
        quarantine["commands"][0]
        == "expandcontract quarantine list --table customers --format json"
    )
    assert quarantine["commands"][1].startswith("expandcontract quarantine resolve customers --key")
    assert quarantine["accepted"] >= quarantine["quarantined_late"]
    assert "refused for" in safe_rehearsal.phase("contract")["note"]
    assert data["phases"][-1]["phase"] == "blue retired"
    late = set(quarantine["late_keys"])
    entries = {q["id"]: q for q in data["consistency"]["quarantined"]}
    assert late <= set(entries) and all(entries[key]["resolution"] for key in late)
    # On the timeline, in order: refused, resolved, applied.
    labels = [e["label"] for e in data["timeline"]["events"]]
    order = [
        next(i for i, label in enumerate(labels) if label.startswith(prefix))
        for prefix in ("contract refused:", "operator: ", "contract applied")
    ]
    assert order == sorted(order)
    assert "quarantine: " in safe_rehearsal.output and "swept in" in safe_rehearsal.output


def test_the_report_opens_offline(safe_rehearsal):
    html = safe_rehearsal.html

    assert "<svg" in html and "traffic share" in html
    # What a platform engineer looks for: versions, the 1 s line, p95, markers, the rate.
    for text in ("PostgreSQL", "expandcontract", "1 s: stalled", "p95", "requests sent per second"):
        assert text in html, text
    assert "green marked stable" in html and "stroke-dasharray" in html
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
    # ... green shows the old column while it exists, but the early contract drops it: green
    # then reads empty addresses, and blue fails once address is dropped under it.
    assert run.phase("contract")["bad_reads"] + run.phase("shift again")["bad_reads"] > 0
    assert run.phase("rollback")["failed"] > 0
    assert data["consistency"]["mismatch_count"] > 0
    # ALTER TABLE without a lock timeout queued behind the report query, and traffic with it.
    assert run.phase("expand")["stalled"] > 0
    # Every kind of failure is among the reasons: errors, bad reads, mismatches, stalls.
    reasons = " ".join(data["reasons"])
    for kind in ("failed request", "returned data other than written", "read back wrong",
                 "stalled request"):  # fmt: skip
        assert kind in reasons, kind
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


def test_soak_zero_runs_the_whole_story(rehearse):
    run = rehearse("--soak", "0s", "--steps", "100", "--step-seconds", "0.2")

    data = run.data
    assert data["phases"][-1]["phase"] == "blue retired", run.output
    assert "no early contract to refuse" in run.phase("soak")["note"]
    assert not any("story stopped" in r for r in data["reasons"])
    assert data["totals"]["failed"] == 0 and data["consistency"]["mismatch_count"] == 0


def test_a_bad_port_or_a_missing_database_is_one_clear_line(pg_server_url, tmp_path):
    from sqlalchemy.engine import make_url

    runner = CliRunner()
    report = ["--report", str(tmp_path / "r.html")]
    port = runner.invoke(
        main, ["rehearse", "--database-url", "postgresql://u@127.0.0.1:abc/db", *report]
    )
    missing_url = make_url(pg_server_url).set(database="no_such_database_here")
    missing = runner.invoke(
        main,
        ["rehearse", "--database-url", missing_url.render_as_string(hide_password=False), *report],
    )

    assert port.exit_code == 2 and "the port is not a number" in port.output
    assert not isinstance(port.exception, ValueError)
    assert missing.exit_code == 2, missing.output
    assert "'no_such_database_here' does not exist" in missing.output
    assert "cannot reach" not in missing.output
