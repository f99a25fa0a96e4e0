"""Offline ``--sql`` output: the guard cannot ask the database, so the script asks at run time.

The generated script starts with ``\\set ON_ERROR_STOP on`` and carries a PL/pgSQL block that
re-checks the ledger when it executes (every check of :mod:`expandcontract.guard.checks`, by
the database's clock) and raises unless the contract is allowed. The hook repeats the block
after every COMMIT and BEGIN the script contains, and only a passing block writes the session
approval the server-side guard asks for, so psql's defaults cannot run past a refusal.
"""

from __future__ import annotations

import json
from typing import Any

from expandcontract.guard.checks import CHECKS, Plan, _q
from expandcontract.ledger import QUALIFIED
from expandcontract.sql.classify import SqlParseError, split_statements

STOP_ON_ERROR = "\\set ON_ERROR_STOP on\n"

quote = _q


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


def guard_block(plan: Plan) -> str:
    """A ``DO`` block enforcing the contract guard when the script runs."""
    prefix = quote(f"expandcontract: contract refused for {', '.join(plan.revisions)}")
    checks = "".join(check.offline(plan) for check in CHECKS)
    return f"""DO $expandcontract$
DECLARE
    prefix text := {prefix};
    stable record;
    problem text;
BEGIN
    IF to_regclass('{QUALIFIED}') IS NULL THEN
        RAISE EXCEPTION '%: [no_mark] this database has no ledger, so no release has been marked stable', prefix;
    END IF;
    SELECT id, release, recorded_at, (details->>'stable_at')::timestamptz AS stable_at,
           (details->>'soak_seconds')::float8 AS soak_seconds, details->'usage' AS usage,
           details ? 'migrated_from' AS migrated
      INTO stable FROM {QUALIFIED} WHERE event = 'release_stable' ORDER BY id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: [no_mark] no release has been marked stable', prefix;
    END IF;{checks}
END
$expandcontract$"""


def psql_statements(text: str) -> list[tuple[str, str]]:
    """Each statement of a piece of the script: (the statement, the exact text psql sends).

    psql sends a statement from its first token (comment lines before it dropped) through its
    terminating semicolon, inclusive: that text is what ``current_query()`` returns, so an
    approval keyed by its md5 matches only that statement. Text that does not parse is one
    statement as written (whatever it does, the server judges it without an approval).
    """
    body = text.strip()
    try:
        pieces = split_statements(body)
    except SqlParseError:
        return [(body.removesuffix(";"), body if body.endswith(";") else body + ";")]
    if len(pieces) == 1 and body.startswith(pieces[0]):
        return [(pieces[0], body if body.endswith(";") else body + ";")]
    return [(piece, piece + ";") for piece in pieces]
