"""Re-running a contract revision after a crash: what is already gone is not an error.

A contract revision with an autocommit step (``DROP INDEX CONCURRENTLY``) commits part of its
work before it finishes. Killed after that, the revision is still pending, and its second run
would find the index gone. The hook records ``contract_started`` before every contract step;
a second start since the last ``contract_applied`` of the same revision means a resumed run,
and the drop operations then accept that their object no longer exists.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from expandcontract.ledger import Event, Ledger
from expandcontract.runtime.state import current_step


def resumed(context: MigrationContext) -> bool:
    """Is the running contract revision being re-run after an interrupted attempt?"""
    step = current_step(context)
    if step is None or context.as_sql or context.connection is None:
        return False
    ledger = Ledger(context.connection)
    starts = ledger.entries(Event.CONTRACT_STARTED, limit=2, revision=step.revision)
    if len(starts) < 2:
        return False
    applied = ledger.latest(Event.CONTRACT_APPLIED, revision=step.revision)
    return applied is None or applied.id < starts[1].id
