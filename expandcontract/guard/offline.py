"""Offline ``--sql`` output: the guard cannot ask the database, so the script asks at run time.

The generated script carries a PL/pgSQL block that re-checks the ledger when it executes and
raises (aborting the script's transaction) unless the contract is allowed, plus the ledger
inserts an online run would have made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from expandcontract.guard import Removal


def quote(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def _array(values: Iterable[str]) -> str:
    return "ARRAY[" + ", ".join(quote(v) for v in values) + "]::text[]"


def ledger_insert(table: str, event: str, **fields: Any) -> str:
    details = fields.pop("details", {}) or {}
    columns = ["event", "release", "revision", "phase", "actor", "details"]
    values = [
        quote(event),
        quote(fields.get("release")),
        quote(fields.get("revision")),
        quote(fields.get("phase")),
        quote("offline script"),
        quote(json.dumps(details)) + "::jsonb",
    ]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


def guard_block(
    table: str,
    revisions: Sequence[str],
    dependencies: Sequence[str],
    removed: Sequence[Removal],
    require_snapshot: bool,
) -> str:
    """A ``DO`` block enforcing the contract guard when the script runs."""
    prefix = f"expandcontract: contract refused for {', '.join(revisions)}"
    pairs = ", ".join(f"({quote(r.table.rsplit('.', 1)[-1])}, {quote(r.column)})" for r in removed)
    usage_check = (
        f"""
    IF stable.usage IS NOT NULL THEN
        SELECT string_agg(r.tbl || coalesce('.' || r.col, ''), ', ') INTO problem
          FROM (VALUES {pairs}) AS r(tbl, col)
         WHERE EXISTS (
               SELECT 1 FROM jsonb_each(stable.usage) AS u(name, cols)
                WHERE regexp_replace(u.name, '^.*\\.', '') = r.tbl
                  AND (r.col IS NULL OR u.cols ? r.col));
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION '{prefix}: it removes %, which release % (marked stable) still uses',
                problem, stable.release;
        END IF;
    END IF;"""
        if removed
        else ""
    )
    snapshot_check = (
        f"""
    IF NOT EXISTS (SELECT 1 FROM {table} WHERE event = 'snapshot_recorded' AND id > stable.id) THEN
        RAISE EXCEPTION '{prefix}: require_snapshot is set and no snapshot was recorded after release % was marked stable', stable.release;
    END IF;"""
        if require_snapshot
        else ""
    )
    return f"""DO $expandcontract$
DECLARE
    stable record;
    allowed_at timestamptz;
    problem text;
BEGIN
    IF to_regclass('{table}') IS NULL THEN
        RAISE EXCEPTION '{prefix}: this database has no ledger, so no release has been marked stable';
    END IF;
    SELECT id, release, (details->>'stable_at')::timestamptz AS stable_at,
           (details->>'soak_seconds')::float8 AS soak_seconds, details->'usage' AS usage
      INTO stable FROM {table} WHERE event = 'release_stable' ORDER BY id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION '{prefix}: no release has been marked stable';
    END IF;
    allowed_at := stable.stable_at + make_interval(secs => stable.soak_seconds);
    IF now() < allowed_at THEN
        RAISE EXCEPTION '{prefix}: release % is soaking; contract allowed at % (in %)',
            stable.release, allowed_at, date_trunc('second', allowed_at - now());
    END IF;
    SELECT string_agg(d.rev, ', ') INTO problem FROM unnest({_array(dependencies)}) AS d(rev)
     WHERE NOT EXISTS (SELECT 1 FROM {table} l
                        WHERE l.event = 'phase_applied' AND l.revision = d.rev AND l.id < stable.id);
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION '{prefix}: release % was marked stable before revisions % were applied',
            stable.release, problem;
    END IF;{usage_check}{snapshot_check}
END
$expandcontract$"""
