"""Walking a table in key order, one bounded range per batch.

Keyset pagination on the primary key is the normal path: each batch is the next ``size`` keys
after the cursor, found through the primary key's index, so a batch costs the same at the end
of the table as at the start. A table without a primary key is walked by physical position
(``ctid``) in page ranges instead, which PostgreSQL 14+ serves with a TID range scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.backfill.errors import BackfillSpecError
from expandcontract.backfill.spec import Backfill

CTID = "ctid"


@dataclass(frozen=True)
class TableInfo:
    """The live shape of the backfill's table."""

    sql_name: str
    """Quoted, schema-qualified when needed; safe to paste into SQL."""
    columns: frozenset[str]
    key_columns: tuple[str, ...]
    """Primary key column names (unquoted), or ``("ctid",)`` when the table has none."""
    key_types: tuple[str, ...]
    reltuples: float
    relpages: int

    @property
    def uses_ctid(self) -> bool:
        return self.key_columns == (CTID,)


def inspect_table(connection: Connection, spec: Backfill) -> TableInfo:
    """Look the table up and check that every column the backfill sets exists."""
    # Quoted like the operations quote it, so a mixed-case name finds the same table.
    quoted = ".".join(_quote(connection, part) for part in spec.table.split("."))
    oid = connection.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": quoted}).scalar()
    if oid is None:
        raise BackfillSpecError(f"backfill {spec.name!r}: table {spec.table!r} does not exist")
    name, reltuples, relpages = connection.execute(
        sa.text(
            "SELECT CAST(:oid AS oid)::regclass::text, reltuples, relpages FROM pg_class "
            "WHERE oid = :oid"
        ),
        {"oid": oid},
    ).one()
    columns = frozenset(
        connection.execute(
            sa.text(
                "SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 "
                "AND NOT attisdropped"
            ),
            {"oid": oid},
        ).scalars()
    )
    missing = sorted(set(spec.set_columns) - columns)
    if missing:
        raise BackfillSpecError(
            f"backfill {spec.name!r}: table {spec.table!r} has no column "
            + ", ".join(repr(m) for m in missing)
        )
    key = connection.execute(
        sa.text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = :oid AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)"
        ),
        {"oid": oid},
    ).all()
    if key:
        key_columns = tuple(row[0] for row in key)
        key_types = tuple(row[1] for row in key)
    else:
        key_columns, key_types = (CTID,), ("tid",)
    return TableInfo(name, columns, key_columns, key_types, float(reltuples), int(relpages))


@dataclass(frozen=True)
class Range:
    """One batch's slice of the table: keys in ``(lo, hi]`` (keyset) or pages ``[lo, hi)``."""

    lo: tuple[str, ...] | None
    hi: tuple[str, ...]
    units: int
    """Rows (keyset) or pages (ctid) the range covers."""


class Pager(Protocol):
    unit: str

    def key_text(self) -> str:
        """SQL text of one row's key, as stored in quarantine."""

    def next_range(
        self, connection: Connection, cursor: tuple[str, ...] | None, size: int
    ) -> Range | None:
        """The next range after ``cursor`` holding about ``size`` units; None at the end."""

    def predicate(self, rng: Range) -> tuple[str, dict[str, Any]]:
        """SQL predicate (on alias ``t``) selecting the rows of ``rng``, with its parameters."""


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def row_key_text(connection: Connection, table: TableInfo) -> str:
    """SQL text of one row's key (on alias ``t``), as stored in quarantine."""
    if table.uses_ctid:
        return "t.ctid::text"
    cols = [f"t.{_quote(connection, c)}" for c in table.key_columns]
    return f"{cols[0]}::text" if len(cols) == 1 else f"ROW({', '.join(cols)})::text"


class KeysetPager:
    """Next ``size`` primary-key values after the cursor, through the key's index.

    The walk ends at the largest key that existed when the run started: rows inserted later
    are the sync trigger's (and the application's) to fill, and chasing them would never end
    while the application keeps inserting.
    """

    unit = "rows"

    def __init__(self, connection: Connection, table: TableInfo) -> None:
        self.table = table
        self._key_text = row_key_text(connection, table)
        self.cols = [f"t.{_quote(connection, c)}" for c in table.key_columns]
        self.types = table.key_types
        self._key = self.cols[0] if len(self.cols) == 1 else f"({', '.join(self.cols)})"
        self._texts = ", ".join(f"{c}::text" for c in self.cols)
        self._order = ", ".join(self.cols)
        desc = ", ".join(f"{c} DESC" for c in self.cols)
        last = connection.execute(
            sa.text(f"SELECT {self._texts} FROM {table.sql_name} AS t ORDER BY {desc} LIMIT 1")
        ).first()
        self.end: tuple[str, ...] | None = tuple(last) if last is not None else None

    def key_text(self) -> str:
        return self._key_text

    def _bound(self, prefix: str, values: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        params = {f"{prefix}{i}": v for i, v in enumerate(values)}
        casts = [f"CAST(:{prefix}{i} AS {typ})" for i, typ in enumerate(self.types)]
        return (casts[0] if len(casts) == 1 else f"({', '.join(casts)})"), params

    def _after(self, cursor: tuple[str, ...] | None) -> tuple[str, dict[str, Any]]:
        if cursor is None:
            return "TRUE", {}
        bound, params = self._bound("lo", cursor)
        return f"{self._key} > {bound}", params

    def next_range(
        self, connection: Connection, cursor: tuple[str, ...] | None, size: int
    ) -> Range | None:
        if self.end is None:
            return None
        where, params = self._after(cursor)
        upper, end_params = self._bound("end", self.end)
        row = connection.execute(
            sa.text(
                f"SELECT {self._texts} FROM {self.table.sql_name} AS t WHERE {where} "
                f"AND {self._key} <= {upper} ORDER BY {self._order} LIMIT 1 OFFSET :off"
            ),
            {**params, **end_params, "off": size - 1},
        ).first()
        if row is not None:
            return Range(cursor, tuple(row), size)
        # Fewer than ``size`` keys are left: the final range ends at the end key.
        rng = Range(cursor, self.end, size)
        predicate, predicate_params = self.predicate(rng)
        count = connection.execute(
            sa.text(f"SELECT count(*) FROM {self.table.sql_name} AS t WHERE {predicate}"),
            predicate_params,
        ).scalar_one()
        return Range(cursor, self.end, int(count)) if count else None

    def predicate(self, rng: Range) -> tuple[str, dict[str, Any]]:
        lower, params = self._after(rng.lo)
        upper, hi_params = self._bound("hi", rng.hi)
        return f"{lower} AND {self._key} <= {upper}", {**params, **hi_params}


class CtidPager:
    """Page ranges by physical position, for tables without a primary key.

    The end is fixed when the run starts: rows written later belong to the sync trigger, and
    the new row versions our own updates append must not be walked again.
    """

    unit = "pages"

    def __init__(self, connection: Connection, table: TableInfo) -> None:
        self.table = table
        self.end_page = int(
            connection.execute(
                sa.text(
                    "SELECT pg_relation_size(CAST(:t AS regclass)) / "
                    "current_setting('block_size')::bigint"
                ),
                {"t": table.sql_name},
            ).scalar_one()
        )

    def key_text(self) -> str:
        return "t.ctid::text"

    def next_range(
        self, connection: Connection, cursor: tuple[str, ...] | None, size: int
    ) -> Range | None:
        lo = int(cursor[0]) if cursor else 0
        if lo >= self.end_page:
            return None
        hi = min(lo + size, self.end_page)
        return Range((str(lo),), (str(hi),), hi - lo)

    def predicate(self, rng: Range) -> tuple[str, dict[str, Any]]:
        lo = rng.lo[0] if rng.lo else "0"
        # Literal page numbers (not parameters) keep the TID range scan visible to the planner.
        return (
            f"t.ctid >= '({int(lo)},0)'::tid AND t.ctid < '({int(rng.hi[0])},0)'::tid",
            {},
        )


def make_pager(connection: Connection, table: TableInfo) -> Pager:
    """The pager for ``table``: keyset when it has a primary key, ctid otherwise."""
    if table.uses_ctid:
        return CtidPager(connection, table)
    return KeysetPager(connection, table)
