"""The SQL one batch runs, built once per run from the specification.

The conversion is a plain single-table ``UPDATE ... WHERE <range> AND <pending>``, the same
shape as a set-based UPDATE restricted to a key range. That matters for correctness as well as
speed: when an application write changes a row while the batch waits for its lock, PostgreSQL
re-checks ``pending`` and re-computes the new values on the *latest* row version, so the batch
never overwrites a fresher write with values derived from an old one.

PostgreSQL does not let a LATERAL item in ``UPDATE ... FROM`` reference the target table, so
a ``source`` is evaluated in a scalar sub-SELECT per row instead: once in ``WHERE`` to judge the
row, once in ``SET`` to convert it. Shapes that evaluate it once (a data-modifying CTE that
computes the conversion of the range's pending rows once, locked ``FOR NO KEY UPDATE`` or
joined back by ``ctid``, and feeds both the UPDATE and the quarantine INSERT; an ``UPDATE ...
FROM`` self-join) were measured at the same server CPU per row as this one on the reference
backfill under load: what they save in the second evaluation they spend materialising and
joining back. On a quiet machine, as whole-table statements on 1M reference rows, the
self-join took 13.0 s against this shape's 14.0 s (and 12.5 s with no judging at all): the
second evaluation is cheap (likely because PostgreSQL drops the parts of the inlined parse the
``WHERE`` does not read; not verified in the plan).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from expandcontract.backfill.paging import Pager, TableInfo
from expandcontract.backfill.spec import Backfill
from expandcontract.backfill.store import QUARANTINE_CONFLICT, QUARANTINE_TABLE

RANGE = "{range}"
"""Placeholder for the batch's range predicate in every statement."""


@dataclass(frozen=True)
class BatchStatements:
    """SQL texts for one batch; each contains :data:`RANGE` where the range predicate goes."""

    update: str
    quarantine_rejected: str | None
    """Records the rows ``reject_reason`` refuses (None without a ``reject_reason``)."""
    quarantine_row: str
    """Records the rows of the range with ``:reason`` (after their conversion raised).

    It evaluates neither ``pending`` nor ``reject_reason``: either may be what raised."""
    quarantine_row_plain: str
    """The same, keeping the whole row as JSON (when ``original`` raises too)."""
    range_keys: str
    """The quarantine keys of the range's rows (not open in quarantine already)."""

    def for_range(self, statement: str, predicate: str) -> str:
        return statement.replace(RANGE, predicate)


def _fragment(sql: str) -> str:
    # User SQL goes through sqlalchemy.text(): escape colons so ':30' is never a bind parameter.
    return sql.replace(":", "\\:")


def _quarantine_insert(key: str, original: str, reason: str, from_: str, where: str) -> str:
    return (
        f"INSERT INTO {QUARANTINE_TABLE} "
        "(table_name, primary_key, original_value, reason, backfill_name) "
        f"SELECT :table_name, {key}, {original}, {reason}, :backfill_name "
        f"FROM {from_} WHERE {where} {QUARANTINE_CONFLICT}"
    )


def build_statements(
    connection: Connection,
    spec: Backfill,
    table: TableInfo,
    pager: Pager,
    skip_quarantined: bool = False,
) -> BatchStatements:
    """Compose the per-batch statements for ``spec`` on ``table``.

    ``skip_quarantined`` leaves out rows with an open quarantine entry of this backfill, so a
    re-run does not examine them again (the check costs an index probe per row, so it is only
    added when such entries exist).
    """
    quote = connection.dialect.identifier_preparer.quote
    source = _fragment(spec.source) if spec.source else None
    columns = [(quote(column), _fragment(expression)) for column, expression in spec.columns]
    reject = f"({_fragment(spec.reject_reason)})" if spec.reject_reason else None

    if source:
        targets = ", ".join(column for column, _ in columns)
        values = ", ".join(f"({expression})" for _, expression in columns)
        subselect = f"(SELECT {values} FROM {source})"
        # A one-column target list needs an explicit ROW() on the right-hand side.
        assignments = f"({targets}) = " + (f"ROW({subselect})" if len(columns) == 1 else subselect)
    else:
        assignments = ", ".join(f"{column} = ({expression})" for column, expression in columns)

    key = pager.key_text()
    in_range = RANGE
    if skip_quarantined:
        in_range += (
            f" AND NOT EXISTS (SELECT 1 FROM {QUARANTINE_TABLE} AS q "
            "WHERE q.backfill_name = :backfill_name AND q.table_name = :table_name "
            f"AND q.primary_key = {key} AND q.resolved_at IS NULL)"
        )
    where = f"{in_range} AND ({_fragment(spec.pending)})"
    update_where = where
    if reject:
        # Rejected rows are left untouched: their new values are never even computed.
        per_row = f"(SELECT {reject} FROM {source})" if source else reject
        update_where += f" AND {per_row} IS NULL"
    update = f"UPDATE {table.sql_name} AS t SET {assignments} WHERE {update_where}"

    plain_from = f"{table.sql_name} AS t"
    joined_from = plain_from + (f" LEFT JOIN {source} ON TRUE" if source else "")
    original = f"({_fragment(spec.original)})::text" if spec.original else "to_jsonb(t)::text"
    rejected = None
    if reject:
        rejected = _quarantine_insert(
            key, original, f"{reject}::text", joined_from, f"{where} AND {reject} IS NOT NULL"
        )
    return BatchStatements(
        update=update,
        quarantine_rejected=rejected,
        quarantine_row=_quarantine_insert(key, original, ":reason", joined_from, in_range),
        quarantine_row_plain=_quarantine_insert(
            key, "to_jsonb(t)::text", ":reason", plain_from, in_range
        ),
        range_keys=f"SELECT {key} FROM {plain_from} WHERE {in_range}",
    )
