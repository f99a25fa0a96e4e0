"""The story, the library's way: expand → migrate → shift → rollback → shift → stable → contract.

Each move goes through the public API (``upgrade_phase``, ``mark_release_stable``,
``contract_allowed``) exactly as an operator or a CI job would.
"""

from __future__ import annotations

import time

from expandcontract.api import connect, contract_allowed, mark_release_stable, upgrade_phase
from expandcontract.errors import ContractRefused, ExpandContractError
from expandcontract.phases import Phase
from expandcontract.rehearsal.migrations import LOCK_TIMEOUT, LongReport, migration_figures
from expandcontract.rehearsal.stage import Stage

GREEN_METADATA = "app.models_v2:metadata"


class StoryError(ExpandContractError):
    """A step of the story did not do what the story needs (the rehearsal stops there)."""


def play_safe(stage: Stage) -> None:
    stage.v1_live()
    expand(stage)
    # Green comes up as soon as its columns exist and takes test traffic while the backfill
    # runs: it must show every address, converted yet or not.
    stage.deploy_green()
    migrate(stage)
    stage.shift("shift")
    stage.roll_back(check_blue=True)
    stage.shift("shift again")
    soak(stage)
    contract(stage)
    stage.retire_blue()


def expand(stage: Stage) -> None:
    p = stage.progress
    p.begin("expand", "add the structured columns and the two-way sync trigger")
    seconds = stage.options.report_seconds
    with LongReport(stage.url, seconds) as report:
        p.note(f"a reporting query holds a lock on customers for {seconds:g}s", event=True)
        started = time.monotonic()
        upgrade_phase(stage.config, Phase.EXPAND)
        waited = time.monotonic() - started
    if report.error is not None:
        p.warn(f"the reporting query failed: {report.error}")
    retries = p.messages("expand", "lock not available")
    p.note(
        f"expand applied in {waited:.1f}s; {retries} lock wait(s) gave up after "
        f"{LOCK_TIMEOUT.total_seconds() * 1000:.0f} ms and were retried, so traffic kept flowing",
        event=True,
        kind="story",
    )
    stage.note_phase(f"{retries} DDL lock wait(s) timed out and retried behind a report query")
    stage.hold()


def migrate(stage: Stage) -> None:
    p = stage.progress
    p.begin("migrate", "batched backfill of the structured columns")
    p.pause()  # the backfill draws its own progress bar
    try:
        upgrade_phase(stage.config, Phase.MIGRATE)
    finally:
        p.resume()
    converted, quarantined = migration_figures(stage.url)
    record = stage.timeline.phases[-1]
    record.rows_migrated, record.rows_quarantined = converted, quarantined
    p.note(f"backfill done: {converted or 0:,} rows converted, {quarantined or 0} quarantined")
    stage.hold()


def soak(stage: Stage) -> None:
    p = stage.progress
    soak_period = stage.options.soak
    p.begin("soak", f"green marked stable; contract waits {soak_period.total_seconds():g}s")
    mark = mark_release_stable(stage.config, "green", soak=soak_period, metadata=GREEN_METADATA)
    p.note(
        f"green marked stable; contract allowed from {mark.soak_ends_at:%H:%M:%S} UTC",
        event=True,
        kind="guard",
    )
    if soak_period.total_seconds() > 0:
        try:
            upgrade_phase(stage.config, Phase.CONTRACT)
        except ContractRefused as refused:
            first = refused.reasons[0] if refused.reasons else "refused"
            p.note(f"contract attempted early: refused (exit 3): {first}", event=True, kind="guard")
            stage.note_phase(f"early contract refused: {first}")
        else:
            raise StoryError("the contract guard let a contract through before the soak ended")
    else:
        stage.note_phase("--soak 0s: no soak, so no early contract to refuse")
    resolved = resolve_quarantine(stage.url)
    if resolved:
        p.note(f"operator accepted {resolved} quarantined row(s); originals stay in the quarantine")
        stage.note_phase(f"{resolved} quarantined row(s) reviewed and accepted")
    deadline = time.monotonic() + soak_period.total_seconds() + 60
    while not (verdict := contract_allowed(stage.config)).allowed:
        if time.monotonic() > deadline:
            raise StoryError("contract still refused after the soak: " + "; ".join(verdict.reasons))
        if verdict.remaining is not None:
            p.step = f"soak: {verdict.remaining.total_seconds():.0f}s left"
        time.sleep(0.25)
    p.note("soak elapsed: contract allowed", event=True, kind="guard")


def contract(stage: Stage) -> None:
    p = stage.progress
    p.begin("contract", "drop the sync trigger and the old address column")
    upgrade_phase(stage.config, Phase.CONTRACT)
    stage.registry.contracted = True
    status, _ = stage.blue.health()
    p.note(
        f"contract applied; blue's /health now says {status} (it gets no traffic)",
        event=True,
        kind="guard",
    )
    stage.hold()


def resolve_quarantine(url: str) -> int:
    """Accept every open quarantined customer as it is (what an operator does after review)."""
    from expandcontract.backfill import resolve_quarantine as resolve

    with connect(url=url) as connection:
        resolved = resolve(
            connection,
            "customers",
            resolution="reviewed in the rehearsal: kept as is, original in quarantine",
        )
        connection.commit()
    return resolved
