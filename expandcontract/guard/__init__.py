"""The contract guard: destructive revisions wait until the new release has soaked.

Before any contract revision is applied, all of these must hold (DESIGN §5):

1. a release has been marked stable;
2. its soak period has passed;
3. the stable mark was recorded after every expand/migrate revision the pending contract
   revisions depend on was applied (the stable release really ran on the expanded schema);
4. the pending contract drops nothing the stable release still uses (when its usage is known);
5. with ``require_snapshot``, a snapshot was recorded after the stable mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alembic.script import Script, ScriptDirectory

from expandcontract.config import Settings
from expandcontract.durations import format_duration, utcnow
from expandcontract.errors import ContractRefused
from expandcontract.ledger import Clock, Event, Ledger, StableMark
from expandcontract.phases import Phase, dependency_closure, phase_of
from expandcontract.render import RenderError, render_sql
from expandcontract.sql import classify
from expandcontract.usage import removed_in_use

# Changes that take something away from a release still using it.
REMOVALS = {"drop_column", "drop_table", "rename_column", "rename_table", "alter_column_type"}


@dataclass(frozen=True)
class Removal:
    revision: str
    kind: str
    table: str
    column: str | None = None

    def describe(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind.replace('_', ' ')} {target}"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reasons": self.reasons,
            "revisions": self.revisions,
            "allowed_at": self.allowed_at.isoformat() if self.allowed_at else None,
        }


def removals(
    revisions: Sequence[Script], direction: str = "upgrade"
) -> tuple[list[Removal], list[str]]:
    """What the revisions remove, found by rendering their SQL offline.

    Returns the removals and the ids of revisions that could not be rendered (their removals
    are still caught at run time by phase policing).
    """
    found: list[Removal] = []
    unknown: list[str] = []
    for revision in revisions:
        try:
            sql = render_sql(revision, direction)
        except RenderError:
            unknown.append(revision.revision)
            continue
        for change in classify(sql) if sql.strip() else []:
            if change.kind in REMOVALS and change.table:
                column = change.column if "column" in change.kind else None
                found.append(Removal(revision.revision, change.kind, change.table, column))
    return found, unknown


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


def _still_used(found: Sequence[Removal], stable: StableMark, verb: str) -> list[str]:
    """Reasons for every removal that takes away something the stable release uses."""
    if stable.usage is None:
        return []
    return [
        f"{verb} {r.revision} would {r.describe()}, which release {stable.release} "
        "(marked stable) still uses"
        for r in found
        if removed_in_use(stable.usage, r.table, r.column)
    ]


class ContractGuard:
    """Evaluates the five conditions against the ledger and records what it decided."""

    def __init__(
        self,
        script: ScriptDirectory,
        ledger: Ledger,
        settings: Settings,
        clock: Clock = utcnow,
    ) -> None:
        self.script = script
        self.ledger = ledger
        self.settings = settings
        self.clock = clock

    def evaluate(self, pending: Sequence[Script]) -> Verdict:
        """Judge applying the ``pending`` contract revisions now (an empty list judges 1, 2, 5)."""
        reasons: list[str] = []
        ids = [rev.revision for rev in pending]
        stable = self.ledger.latest_stable()
        if stable is None:
            reasons.append(
                "no release has been marked stable: once the new release serves all traffic, "
                "run `expandcontract mark-stable RELEASE`"
            )
            return Verdict(False, reasons, ids)
        now = self.clock()
        allowed_at = stable.soak_ends_at
        remaining = allowed_at - now if now < allowed_at else None
        if remaining is not None:
            soaked = max(now - stable.stable_at, timedelta(0))
            reasons.append(
                f"release {stable.release} has soaked {format_duration(soaked)} of "
                f"{format_duration(stable.soak)}: contract allowed at "
                f"{allowed_at.isoformat(timespec='seconds')} (in {format_duration(remaining)})"
            )
        reasons.extend(self._ran_on_expanded_schema(pending, stable))
        if stable.usage is not None:
            reasons.extend(_still_used(removals(pending)[0], stable, "revision"))
        snapshot_missing = None
        if self.settings.require_snapshot:
            snapshot = self.ledger.latest(Event.SNAPSHOT_RECORDED)
            if snapshot is None or snapshot.id < stable.recorded.id:
                snapshot_missing = (
                    f"require_snapshot is set and no snapshot was recorded after release "
                    f"{stable.release} was marked stable: run `expandcontract snapshot`"
                )
                reasons.append(snapshot_missing)
        return Verdict(not reasons, reasons, ids, stable, allowed_at, remaining, snapshot_missing)

    def _ran_on_expanded_schema(self, pending: Sequence[Script], stable: StableMark) -> list[str]:
        reasons = []
        for dep in expanded_dependencies(self.script, pending):
            rev_id = dep.revision
            applied = self.ledger.last_applied(rev_id)
            if applied is None:
                reasons.append(
                    f"{phase_of(dep)} revision {rev_id} that the contract depends on has not been "
                    "applied: apply it, let the new release run on it, then mark it stable"
                )
            elif applied.id > stable.recorded.id:
                reasons.append(
                    f"release {stable.release} was marked stable before {phase_of(dep)} revision "
                    f"{rev_id} was applied (ledger #{stable.recorded.id} < #{applied.id}): it never "
                    "ran on the expanded schema; mark it stable again once it has"
                )
        return reasons

    def evaluate_downgrade(self, reverting: Sequence[Script]) -> Verdict:
        """Judge downgrading expand/migrate revisions the stable release may be running on."""
        stable = self.ledger.latest_stable()
        ids = [rev.revision for rev in reverting]
        if stable is None or not reverting:
            return Verdict(True, [], ids, stable)
        reasons: list[str] = []
        if stable.usage is not None:
            reasons = _still_used(removals(reverting, "downgrade")[0], stable, "downgrading")
        else:
            for revision in reverting:
                applied = self.ledger.last_applied(revision.revision)
                if applied is not None and applied.id < stable.recorded.id:
                    reasons.append(
                        f"release {stable.release} was marked stable on a schema that includes "
                        f"{phase_of(revision)} revision {revision.revision}; downgrading it may "
                        "remove what that release uses (record its usage with "
                        "`mark-stable --metadata` so the guard can check precisely)"
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
