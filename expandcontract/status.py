"""Where a database stands: heads and pending revisions per phase, and whether contract may run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from expandcontract.config import Settings
from expandcontract.enforcement import Enforcement, enforcement_status
from expandcontract.guard import ContractGuard, Verdict
from expandcontract.ledger import Ledger, StableMark
from expandcontract.ops.readiness import contract_readiness
from expandcontract.phases import (
    PHASE_ORDER,
    Phase,
    all_revisions,
    annotate,
    applied_revisions,
    is_legacy,
    require_phase,
)


@dataclass(frozen=True)
class Status:
    heads: dict[Phase, list[str]]
    pending: dict[Phase, list[str]]
    stable: StableMark | None
    verdict: Verdict
    url_source: str = ""
    baseline: list[str] = field(default_factory=list)
    legacy_pending: list[str] = field(default_factory=list)
    fresh_database: bool = False
    server_guard: Enforcement | None = None

    def to_dict(self) -> dict[str, Any]:
        stable = None
        if self.stable is not None:
            stable = {
                "release": self.stable.release,
                "stable_at": self.stable.stable_at.isoformat(),
                "soak_seconds": self.stable.soak.total_seconds(),
            }
        return {
            "heads": {str(p): v for p, v in self.heads.items()},
            "pending": {str(p): v for p, v in self.pending.items()},
            "stable": stable,
            "contract_allowed": self.verdict.allowed,
            "contract_allowed_at": self.stable.soak_ends_at.isoformat() if self.stable else None,
            "reasons": self.verdict.reasons,
            "database_url_source": self.url_source,
            "baseline": self.baseline,
            "legacy_pending": self.legacy_pending,
            "fresh_database": self.fresh_database,
            "server_guard": self.server_guard.describe() if self.server_guard else None,
        }


def collect_status(
    config: Config,
    connection: Connection,
    settings: Settings,
    url_source: str = "",
) -> Status:
    """Read-only: nothing is created or recorded."""
    script = ScriptDirectory.from_config(config)
    baseline = annotate(script)
    migration_context = MigrationContext.configure(connection)
    fresh = not migration_context._has_version_table()
    current = migration_context.get_current_heads()
    applied = applied_revisions(script, current)
    heads: dict[Phase, list[str]] = {phase: [] for phase in PHASE_ORDER}
    pending: dict[Phase, list[str]] = {phase: [] for phase in PHASE_ORDER}
    legacy_pending: list[str] = []
    revisions = all_revisions(script)
    for revision in revisions:
        if is_legacy(revision):
            if revision.revision not in applied:
                legacy_pending.append(revision.revision)
            continue
        phase = require_phase(revision)
        if revision.revision not in applied:
            pending[phase].append(revision.revision)
            continue
        has_applied_child = any(
            child in applied and require_phase(script.get_revision(child)) is phase  # type: ignore[arg-type]
            for child in revision.nextrev
        )
        if not has_applied_child:
            heads[phase].append(revision.revision)
    ledger = Ledger(connection)
    guard = ContractGuard(script, ledger, settings)
    pending_contract = [script.get_revision(r) for r in pending[Phase.CONTRACT]]
    scripts = [r for r in pending_contract if r is not None]
    verdict = guard.evaluate(scripts)
    # The contract operations' own preconditions on the live data (backfill caught up,
    # quarantine resolved): status says "allowed" only when the contract would really run.
    not_ready = contract_readiness(connection, scripts)
    if not_ready:
        verdict = replace(verdict, allowed=False, reasons=[*verdict.reasons, *not_ready])
    server_guard = enforcement_status(connection)
    connection.rollback()  # read-only: end the transaction the reads began
    return Status(
        heads,
        pending,
        verdict.stable,
        verdict,
        url_source,
        list(baseline.heads) if baseline else [],
        legacy_pending,
        fresh,
        server_guard,
    )
