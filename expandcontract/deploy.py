"""The deploy command's plan: everything but a contract that may not run yet.

``expandcontract upgrade`` with no phase, and ``alembic upgrade head`` / ``heads`` /
``flask db upgrade`` under the hook, bring expand and migrate up to date and apply contract
revisions only when the guard allows them. A contract waiting for its soak is a normal state
of a deploy, so it is reported as pending (exit 0) instead of failing the run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alembic.script import Script

from expandcontract.guard import ContractGuard
from expandcontract.phases import Phase, phase_of

# Destinations that mean "bring the database up to date" (Alembic's and Flask-Migrate's
# defaults in deploy scripts).
DEPLOY_TARGETS = frozenset({"head", "heads"})


@dataclass
class DeployReport:
    """What one deploy run applied and what it left pending, for the CLI to print."""

    applied: list[str] = field(default_factory=list)
    pending_contract: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    allowed_at: datetime | None = None
    fresh_database: bool = False
    forced: bool = False

    def pending_line(self) -> str:
        """One line saying which contract revisions wait, and until when."""
        when = (
            f"allowed at {self.allowed_at.isoformat(timespec='seconds')}"
            if self.allowed_at is not None
            else "allowed once the new release is marked stable and has soaked"
        )
        return f"contract pending ({', '.join(self.pending_contract)}): {when}"

    def print_pending(self) -> None:
        """The pending contract and its reasons on stderr (nothing when none is pending)."""
        if not self.pending_contract:
            return
        print(f"expandcontract: {self.pending_line()}", file=sys.stderr)
        for reason in self.reasons:
            print(f"  - {reason}", file=sys.stderr)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "pending_contract": self.pending_contract,
            "contract_allowed_at": self.allowed_at.isoformat() if self.allowed_at else None,
            "reasons": self.reasons,
            "fresh_database": self.fresh_database,
            "forced": self.forced,
        }


def is_deploy_target(destination: Any) -> bool:
    """True for ``head``/``heads`` (also with an offline ``start:`` prefix)."""
    if not isinstance(destination, str):
        return False
    return destination.rpartition(":")[2] in DEPLOY_TARGETS


def split_contract(steps: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(steps that may run now, steps held back): contract revisions and what needs them."""
    held_ids: set[str] = set()
    now: list[Any] = []
    held: list[Any] = []
    for step in steps:
        revision = getattr(step, "revision", None)
        if not isinstance(revision, Script) or not step.is_upgrade:
            now.append(step)
            continue
        needs_held = any(dep in held_ids for dep in revision._all_down_revisions)
        if phase_of(revision) is Phase.CONTRACT or needs_held:
            held_ids.add(revision.revision)
            held.append(step)
        else:
            now.append(step)
    return now, held


def contract_revisions(steps: Iterable[Any]) -> list[Script]:
    return [
        step.revision
        for step in steps
        if isinstance(getattr(step, "revision", None), Script)
        and step.is_upgrade
        and phase_of(step.revision) is Phase.CONTRACT
    ]


def judge_held_contract(
    guard: ContractGuard, held: Sequence[Any], force_reason: str | None, report: DeployReport
) -> bool:
    """May the held contract steps run now? Fills ``report`` when they may not.

    Allowed, or forced (recorded in the ledger): True. Otherwise they stay pending; no refusal
    is recorded, since waiting for the soak is part of a normal deploy.
    """
    verdict = guard.evaluate(contract_revisions(held))
    if verdict.allowed:
        return True
    if force_reason:
        guard.enforce(verdict, force_reason)  # records the forced override
        report.forced = True
        return True
    report.pending_contract = list(verdict.revisions)
    report.reasons = list(verdict.reasons)
    # A time only when the soak is all that is left to wait for.
    soak_only = verdict.remaining is not None and len(verdict.reasons) == 1
    report.allowed_at = verdict.allowed_at if soak_only else None
    return False
