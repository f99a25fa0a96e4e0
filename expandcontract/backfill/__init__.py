"""The backfill engine: batched, throttled, resumable data conversion with a quarantine.

::

    from expandcontract.backfill import Backfill, run_backfill

    spec = Backfill(
        name="split_address",
        table="customers",
        set_columns={"street": "TRIM(SPLIT_PART(t.address, ',', 1))", ...},
        pending="t.street IS NULL AND t.address IS NOT NULL",
        reject_reason="CASE WHEN t.address NOT LIKE '%,%,%' THEN 'not street, city, state zip' END",
        original="t.address",
    )
    report = run_backfill(engine, spec, time_budget=0.2)

Contract operations check :func:`backfill_complete` and :func:`open_quarantine_count` first.
"""

from __future__ import annotations

from expandcontract.backfill.checks import backfill_complete, resolve_converted
from expandcontract.backfill.engine import BackfillReport, run_backfill
from expandcontract.backfill.errors import (
    BackfillBusy,
    BackfillFailed,
    BackfillInterrupted,
    BackfillSpecError,
)
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.store import (
    QUARANTINE_TABLE,
    STATE_TABLE,
    QuarantinedRow,
    list_quarantine,
    open_quarantine_count,
    resolve_quarantine,
)

__all__ = [
    "QUARANTINE_TABLE",
    "STATE_TABLE",
    "Backfill",
    "BackfillBusy",
    "BackfillFailed",
    "BackfillInterrupted",
    "BackfillReport",
    "BackfillSpecError",
    "QuarantinedRow",
    "backfill_complete",
    "list_quarantine",
    "open_quarantine_count",
    "resolve_converted",
    "resolve_quarantine",
    "run_backfill",
]
