"""The story, the library's way: expand → migrate → shift → rollback → shift → stable → contract.

Each move goes through the public API (``upgrade_phase``, ``mark_release_stable``,
``contract_allowed``) exactly as an operator or a CI job would. When the contract refuses for
quarantined rows (the backfill's, and those blue wrote after it that the contract's own check
sweeps in), the story follows the refusal's advice with the ``expandcontract quarantine``
commands (see :mod:`~expandcontract.rehearsal.operator`) and tries again.
"""

from __future__ import annotations

import time

from expandcontract.api import contract_allowed, mark_release_stable, upgrade_phase
from expandcontract.errors import ContractRefused, ExpandContractError, PreconditionFailed
from expandcontract.phases import Phase
from expandcontract.rehearsal.consistency import quarantined_rows
from expandcontract.rehearsal.migrations import LOCK_TIMEOUT, LongReport, migration_figures
from expandcontract.rehearsal.operator import accept, open_quarantine
from expandcontract.rehearsal.stage import Stage

GREEN_METADATA = "app.models_v2:metadata"
# Refused for quarantined rows, resolved, tried again: a second refusal would mean rows came
# in after the review (blue gets no traffic by then), a third that resolving does not work.
MAX_CONTRACT_ATTEMPTS = 3


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
    stage.quarantine.by_backfill = [str(row["id"]) for row in quarantined_rows(stage.url)]
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
    # Wait for the guard's own checks (the soak); what the data still needs (quarantined
    # rows) is the contract's to say, and the operator's to resolve.
    deadline = time.monotonic() + soak_period.total_seconds() + 60
    while (verdict := contract_allowed(stage.config)).failed:
        if time.monotonic() > deadline:
            raise StoryError("contract still refused after the soak: " + "; ".join(verdict.reasons))
        if verdict.remaining is not None:
            p.step = f"soak: {verdict.remaining.total_seconds():.0f}s left"
        time.sleep(0.25)
    p.note("soak elapsed: the guard allows the contract", event=True, kind="guard")


def contract(stage: Stage) -> None:
    p = stage.progress
    p.begin("contract", "drop the sync trigger and the old address column")
    for attempt in range(1, MAX_CONTRACT_ATTEMPTS + 1):
        try:
            upgrade_phase(stage.config, Phase.CONTRACT)
            break
        except PreconditionFailed as refused:
            if attempt == MAX_CONTRACT_ATTEMPTS:
                raise StoryError(f"contract still refused after resolving: {refused}") from None
            follow_refusal(stage, str(refused))
    stage.registry.contracted = True
    status, _ = stage.blue.health()
    p.note(
        f"contract applied; blue's /health now says {status} (it gets no traffic)",
        event=True,
        kind="guard",
    )
    stage.hold()


def follow_refusal(stage: Stage, refusal: str) -> None:
    """Do what the contract's refusal says: list the quarantined rows, resolve them."""
    p, log = stage.progress, stage.quarantine
    first = refusal.splitlines()[0]
    log.refusals.append(first)
    if "expandcontract quarantine" not in first:
        raise StoryError(f"contract refused, and not for quarantined rows: {first}")
    rows = open_quarantine(stage.url, stage.workdir, log)
    keys = [str(row["primary_key"]) for row in rows]
    if not keys:  # `resolve` without --key would accept every row, reviewed or not
        raise StoryError(f"contract refused, but no quarantined row is open: {first}")
    late = [key for key in keys if key not in log.by_backfill and key not in log.late]
    log.late.extend(late)
    p.note(
        f"contract refused: {len(keys)} quarantined row(s) unresolved, {len(late)} of them "
        "written by blue after the backfill passed them and swept in by the contract's check",
        event=True,
        kind="guard",
    )
    stage.note_phase(
        f"refused for {len(keys)} quarantined row(s) ({len(late)} written after the backfill)"
    )
    p.note(f"operator: `{log.commands[-1]}` lists them; each reviewed and accepted as is")
    resolved = accept(stage.url, stage.workdir, keys, log)
    p.note(
        f"operator: `expandcontract quarantine resolve customers --key ...` resolved {resolved} "
        "row(s); contract again",
        event=True,
        kind="guard",
    )
    stage.note_phase(f"{resolved} accepted with `expandcontract quarantine resolve`; retried")
