"""The contract guard: destructive revisions wait until the new release has soaked.

Before any contract revision is applied, every check in :mod:`expandcontract.guard.checks`
must pass (DESIGN §5): a release marked stable by a mark the guard can trust, after every
expand/migrate revision was applied and with the release deployed last; its soak over by the
database's clock; nothing it uses removed (failing closed on what cannot be seen); a snapshot
after the mark when required. Each check has an online form (here) and an offline form (the
guard block of ``--sql`` scripts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alembic.script import Script, ScriptDirectory

from expandcontract.config import Settings
from expandcontract.errors import ContractRefused, ExpandContractError
from expandcontract.guard.checks import CHECKS, NO_MARK, Facts, Plan, Removal
from expandcontract.ledger import Event, Ledger, StableMark
from expandcontract.phases import Phase, dependency_closure, phase_of
from expandcontract.render import RenderError, render_sql
from expandcontract.sql import UNSEEN_KINDS, Effect, classify, removes
from expandcontract.usage import removed_in_use

__all__ = [
    "ContractGuard",
    "Removal",
    "Verdict",
    "additions",
    "expanded_dependencies",
    "removals",
]


@dataclass(frozen=True)
class Verdict:
    """Whether contract may run now, and every reason it may not."""

    allowed: bool
    reasons: list[str]
    revisions: list[str] = field(default_factory=list)
    stable: StableMark | None = None
    allowed_at: datetime | None = None
    remaining: timedelta | None = None
    # The reason condition 5 failed, if it did: a production contract can take the snapshot.
    snapshot_missing: str | None = None
    failed: list[str] = field(default_factory=list)  # names of the checks that failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reasons": self.reasons,
            "failed": self.failed,
            "revisions": self.revisions,
            "allowed_at": self.allowed_at.isoformat() if self.allowed_at else None,
        }


def removals(
    revisions: Sequence[Script], direction: str = "upgrade"
) -> tuple[list[Removal], list[str]]:
    """What the revisions remove, found by rendering their SQL offline.

    Returns the removals and the ids of revisions nobody can judge: not renderable offline,
    unparseable, or running SQL that cannot be seen into (DO, CALL, CASCADE). Callers that
    compare with a release's usage must fail closed on the second list.
    """
    found: list[Removal] = []
    unseen: list[str] = []
    for revision in revisions:
        try:
            sql = render_sql(revision, direction)
            changes = classify(sql) if sql.strip() else []
        except (RenderError, ExpandContractError):
            unseen.append(revision.revision)
            continue
        if any(change.kind in UNSEEN_KINDS for change in changes):
            unseen.append(revision.revision)
        for change in changes:
            removed = removes(change)
            if removed is None:
                continue
            if removed.what == "schema":
                # Everything in it goes: a bare "schema." prefix matches every table there.
                found.append(Removal(revision.revision, change.kind, f"{removed.name}.*"))
            elif removed.table:
                found.append(Removal(revision.revision, change.kind, removed.table, removed.column))
    return found, unseen


def additions(revision: Script) -> set[tuple[str, str | None]]:
    """What ``revision``'s upgrade adds, so its downgrade may take exactly that away.

    ``(table, None)`` for a table, ``(table, column)`` for a column, ``("", name)`` for a named
    object (index, trigger, function, constraint, view, sequence, type).
    """
    try:
        sql = render_sql(revision, "upgrade")
        changes = classify(sql) if sql.strip() else []
    except (RenderError, ExpandContractError):
        return set()
    added: set[tuple[str, str | None]] = set()
    for change in changes:
        if change.effect is not Effect.ADDITIVE:
            continue
        table = change.table.rsplit(".", 1)[-1] if change.table else None
        if change.kind == "create_table" and table:
            added.add((table, None))
        elif table and change.column:
            added.add((table, change.column))
        if change.name:
            added.add(("", change.name.rsplit(".", 1)[-1]))
    return added


def expanded_dependencies(script: ScriptDirectory, pending: Sequence[Script]) -> list[Script]:
    """The expand and migrate revisions the ``pending`` contract revisions depend on."""
    pending_ids = {rev.revision for rev in pending}
    needed = {
        dep.revision: dep
        for revision in pending
        for dep in dependency_closure(script, revision)
        if dep.revision not in pending_ids and phase_of(dep) in (Phase.EXPAND, Phase.MIGRATE)
    }
    return [needed[rev_id] for rev_id in sorted(needed)]


class ContractGuard:
    """Evaluates the checks against the ledger and records what it decided.

    Every time it compares comes from the database's clock (``now()``), never the runner's.
    """

    def __init__(
        self,
        script: ScriptDirectory,
        ledger: Ledger | None,
        settings: Settings,
    ) -> None:
        self.script = script
        self._ledger = ledger
        self.settings = settings

    @property
    def ledger(self) -> Ledger:
        assert self._ledger is not None, "an offline guard has no ledger"
        return self._ledger

    def offline_plan(self, pending: Sequence[Script]) -> Plan:
        """What the pending revisions need, from the revision files alone."""
        removed, unseen = removals(pending)
        return Plan(
            revisions=[rev.revision for rev in pending],
            dependencies=[dep.revision for dep in expanded_dependencies(self.script, pending)],
            undeclared=[rev.revision for rev in pending if not rev._resolved_dependencies],
            removed=removed,
            unseen=unseen,
            require_snapshot=self.settings.require_snapshot,
            minimum_soak=self.settings.minimum_soak,
        )

    def facts(self, plan: Plan, mark: StableMark) -> Facts:
        ledger = self.ledger
        applied = {}
        for entry in reversed(ledger.entries(Event.PHASE_APPLIED)):
            if entry.revision:
                applied[entry.revision] = entry
        schema_changes = [
            e for e in ledger.entries(Event.PHASE_APPLIED) if e.phase != str(Phase.CONTRACT)
        ]
        return Facts(
            plan=plan,
            mark=mark,
            now=ledger.now(),
            schema_changes=schema_changes,
            applied=applied,
            contract_reverts=ledger.entries(Event.PHASE_REVERTED, phase=str(Phase.CONTRACT)),
            last_deployed=ledger.latest(Event.RELEASE_DEPLOYED),
            snapshot=ledger.latest(Event.SNAPSHOT_RECORDED),
        )

    def evaluate(self, pending: Sequence[Script]) -> Verdict:
        """Judge applying the ``pending`` contract revisions now (an empty list judges the mark)."""
        ids = [rev.revision for rev in pending]
        plan = self.offline_plan(pending)
        stable = self.ledger.latest_stable()
        if stable is None:
            reason = (
                "no release has been marked stable: once the new release serves all traffic, "
                "run `expandcontract mark-stable RELEASE`"
            )
            return Verdict(False, [reason], ids, failed=[NO_MARK])
        facts = self.facts(plan, stable)
        reasons: list[str] = []
        failed: list[str] = []
        snapshot_missing = None
        for check in CHECKS:
            found = check.online(facts)
            if found:
                failed.append(check.name)
                reasons.extend(found)
                if check.name == "snapshot":
                    snapshot_missing = found[0]
        allowed_at = stable.stable_at + max(stable.soak, self.settings.minimum_soak)
        remaining = allowed_at - facts.now if facts.now < allowed_at else None
        return Verdict(
            not reasons, reasons, ids, stable, allowed_at, remaining, snapshot_missing, failed
        )

    def evaluate_downgrade(self, reverting: Sequence[Script]) -> Verdict:
        """Judge downgrading expand/migrate revisions a deployed release may be running on."""
        ids = [rev.revision for rev in reverting]
        if not reverting:
            return Verdict(True, [], ids)
        stable = self.ledger.latest_stable()
        if stable is not None and stable.usage is not None:
            found, unseen = removals(reverting, "downgrade")
            reasons = [
                f"downgrading {r.revision} would {r.describe()}, which release {stable.release} "
                "(marked stable) still uses"
                for r in found
                if removed_in_use(stable.usage, r.table, r.column)
            ]
            reasons.extend(
                f"downgrading {rev} cannot be checked against what release {stable.release} "
                "uses: refused; override with --force --reason"
                for rev in unseen
            )
            return Verdict(not reasons, reasons, ids, stable)
        # Without usage: a release deployed or marked after the revision was applied may be
        # using what it added (green writes the new column before anyone marks it stable).
        marks = [
            e
            for e in (
                self.ledger.latest(Event.RELEASE_DEPLOYED),
                stable.recorded if stable is not None else None,
            )
            if e is not None
        ]
        reasons = []
        for revision in reverting:
            applied = self.ledger.last_applied(revision.revision)
            later = [e for e in marks if applied is not None and e.id > applied.id]
            if later:
                release = later[0].release
                reasons.append(
                    f"release {release} was deployed or marked stable on a schema that includes "
                    f"{phase_of(revision) or 'unphased'} revision {revision.revision}; "
                    "downgrading it may remove what that release uses (record its usage with "
                    "`mark-stable --metadata` so the guard can check precisely, or --force --reason)"
                )
        return Verdict(not reasons, reasons, ids, stable)

    def enforce(self, verdict: Verdict, force_reason: str | None = None) -> None:
        """Record the decision; raise :class:`ContractRefused` unless allowed or forced."""
        if verdict.allowed:
            return
        details = {"reasons": verdict.reasons, "revisions": verdict.revisions}
        if force_reason and force_reason.strip():
            self.ledger.record(
                Event.CONTRACT_FORCED, details={**details, "reason": force_reason.strip()}
            )
            return
        self.ledger.record(Event.CONTRACT_REFUSED, details=details)
        raise ContractRefused(
            verdict.reasons, verdict.revisions, verdict.allowed_at, verdict.remaining
        )
