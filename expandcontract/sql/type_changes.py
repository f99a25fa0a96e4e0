"""What ``ALTER COLUMN ... TYPE`` costs on PostgreSQL: one classification for every caller.

The linter (EC104), autogenerate and runtime phase policing all ask the same question: does
changing a column from ``old`` to ``new`` rewrite the table? The answers below are what
PostgreSQL actually does, measured with ``pg_relation_filenode`` of the table and of an index
on the column before and after the change (``tests/sql/test_type_changes.py`` re-measures every
case on the test server):

- **safe** (neither the table nor its indexes are touched; the lock is held for an instant):
  a binary-coercible change or a widening of the type modifier, e.g. ``varchar(n)`` ->
  ``varchar(m >= n)`` / ``varchar`` / ``text``, ``text`` -> ``varchar``, ``numeric(p, s)`` ->
  ``numeric(q >= p, s)`` / ``numeric``, ``varbit(n)`` -> ``varbit(m >= n)``,
  ``timestamp(p)`` -> ``timestamp(q >= p)``, ``cidr`` -> ``inet``.
- **rebuilds indexes** (the table is kept but every index on the column is rebuilt under an
  ACCESS EXCLUSIVE lock): ``timestamp`` <-> ``timestamptz`` when the session's TimeZone is UTC.
- **rewrite** (the table and its indexes are copied under an ACCESS EXCLUSIVE lock): anything
  else, including ``int`` -> ``bigint``, ``text`` -> ``varchar(n)`` (the length is checked by
  rewriting), narrowing a modifier, any ``char(n)`` change, ``json`` -> ``jsonb``, and every
  change with a ``USING`` expression.

No type change needs a scan without a rewrite: PostgreSQL checks a new length or a domain's
constraint by rewriting the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TypeChangeCost(StrEnum):
    SAFE = "safe"
    REBUILDS_INDEXES = "rebuilds_indexes"
    REWRITE = "rewrite"


@dataclass(frozen=True)
class TypeChange:
    """The verdict on one type change, with the reason in words."""

    cost: TypeChangeCost
    reason: str

    @property
    def safe(self) -> bool:
        return self.cost is TypeChangeCost.SAFE


# Spellings PostgreSQL (and SQLAlchemy's PostgreSQL compiler) use for the same type.
_ALIASES = {
    "character varying": "varchar",
    "char varying": "varchar",
    "string": "varchar",
    "character": "char",
    "bpchar": "char",
    "nchar": "char",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "bigserial": "bigint",
    "decimal": "numeric",
    "bool": "boolean",
    "float8": "double precision",
    "float4": "real",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "bit varying": "varbit",
}
# Types whose modifier only bounds the value: a wider (or no) bound needs no rewrite.
_LENGTH_BOUNDED = frozenset({"varchar", "varbit"})
_PRECISION_BOUNDED = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})
# Pairs PostgreSQL converts without touching the stored bytes (binary coercible).
_BINARY_COERCIBLE = frozenset(
    {("varchar", "text"), ("text", "varchar"), ("cidr", "inet"), ("varchar", "varchar")}
)
_TYPE = re.compile(
    r"^\s*(?P<name>[a-z_][a-z0-9_ .\"]*?)\s*(?:\((?P<args>[^)]*)\))?\s*(?P<array>(\[\])*)\s*$"
)


@dataclass(frozen=True)
class _Type:
    name: str
    args: tuple[int, ...]
    array: bool


def parse_type(text: str) -> _Type | None:
    """``character varying(20)`` -> varchar (20); None when it is not a plain type name."""
    lowered = text.strip().lower().removeprefix("pg_catalog.")
    # the time zone words come after the precision: timestamp(3) with time zone
    zone = re.search(r"\s+(with|without) time zone$", lowered)
    if zone:
        lowered = lowered[: zone.start()]
    match = _TYPE.match(lowered)
    if match is None:
        return None
    name = " ".join(match["name"].replace('"', "").split())
    if zone:
        name = f"{name} {zone.group(1)} time zone"
    name = _ALIASES.get(name, name)
    try:
        args = tuple(int(a) for a in (match["args"] or "").split(",") if a.strip())
    except ValueError:
        return None
    if name == "char" and not args:
        args = (1,)  # char means char(1)
    return _Type(name, args, bool(match["array"]))


def classify_type_change(
    old: str | None, new: str, *, using: bool = False, session_utc: bool = False
) -> TypeChange | None:
    """The cost of changing a column from ``old`` to ``new``; None when ``old`` is unknown.

    ``using``: the statement has a ``USING`` expression (always a rewrite here).
    ``session_utc``: the session's TimeZone is UTC (then timestamp <-> timestamptz keeps the
    table and only rebuilds indexes).
    """
    if using:
        return TypeChange(TypeChangeCost.REWRITE, "a USING expression recomputes every row")
    if old is None:
        return None
    before, after = parse_type(old), parse_type(new)
    if before is None or after is None:
        return TypeChange(TypeChangeCost.REWRITE, f"{old} -> {new} is not a known safe change")
    shown = f"{old} -> {new}"
    if before.array != after.array:
        return TypeChange(TypeChangeCost.REWRITE, f"{shown} converts every value")
    if before == after:
        return TypeChange(TypeChangeCost.SAFE, f"{shown} keeps the type")
    if _widens(before, after):
        return TypeChange(TypeChangeCost.SAFE, f"{shown} only widens the type")
    if {before.name, after.name} == {"timestamp", "timestamptz"}:
        if session_utc and before.args == after.args:
            return TypeChange(
                TypeChangeCost.REBUILDS_INDEXES,
                f"{shown} keeps the table (TimeZone is UTC) but rebuilds its indexes",
            )
        return TypeChange(TypeChangeCost.REWRITE, f"{shown} rewrites unless TimeZone is UTC")
    return TypeChange(TypeChangeCost.REWRITE, f"{shown} rewrites the table and its indexes")


def _widens(before: _Type, after: _Type) -> bool:
    pair = (before.name, after.name)
    if pair in _BINARY_COERCIBLE:
        # to an unbounded type, or to a bound at least as wide as the old one
        if not after.args:
            return True
        return bool(before.args) and before.name == after.name and after.args[0] >= before.args[0]
    if before.name != after.name:
        return False
    name = before.name
    if name in _LENGTH_BOUNDED:
        return not after.args or (bool(before.args) and after.args[0] >= before.args[0])
    if name == "numeric":
        if not after.args:
            return True
        if len(before.args) < 1:
            return False
        scale_before = before.args[1] if len(before.args) > 1 else 0
        scale_after = after.args[1] if len(after.args) > 1 else 0
        return scale_after == scale_before and after.args[0] >= before.args[0]
    if name in _PRECISION_BOUNDED:
        precision_before = before.args[0] if before.args else 6
        precision_after = after.args[0] if after.args else 6
        return precision_after >= precision_before
    return False
