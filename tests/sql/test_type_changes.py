"""Each type-change verdict is what PostgreSQL really does: measured with pg_relation_filenode.

For every case a real table with rows and an index on the column is altered; the table's and
the index's file nodes before and after say whether PostgreSQL rewrote the table, rebuilt the
index, or neither. The classification must agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from expandcontract.sql.type_changes import TypeChangeCost, classify_type_change, parse_type

SAFE, INDEXES, REWRITE = (
    TypeChangeCost.SAFE,
    TypeChangeCost.REBUILDS_INDEXES,
    TypeChangeCost.REWRITE,
)

# (old type, new type, a value of the old type, expected cost with TimeZone = UTC)
CASES = [
    ("varchar(10)", "varchar(20)", "'ab'", SAFE),
    ("varchar(10)", "varchar(10)", "'ab'", SAFE),
    ("varchar(10)", "character varying", "'ab'", SAFE),
    ("varchar(10)", "text", "'ab'", SAFE),
    ("text", "varchar", "'ab'", SAFE),
    ("numeric(10,2)", "numeric(11,2)", "1.5", SAFE),
    ("numeric(10,2)", "numeric", "1.5", SAFE),
    ("varbit(5)", "varbit(10)", "B'101'", SAFE),
    ("timestamp(3)", "timestamp(6)", "now()", SAFE),
    ("cidr", "inet", "'10.0.0.0/8'", SAFE),
    ("timestamp", "timestamptz", "now()", INDEXES),
    ("timestamptz", "timestamp", "now()", INDEXES),
    ("varchar(20)", "varchar(10)", "'ab'", REWRITE),
    ("text", "varchar(20)", "'ab'", REWRITE),
    ("varchar", "varchar(20)", "'ab'", REWRITE),
    ("numeric(10,2)", "numeric(10,3)", "1.5", REWRITE),
    ("numeric(10,2)", "numeric(9,2)", "1.5", REWRITE),
    ("numeric", "numeric(10,2)", "1.5", REWRITE),
    ("integer", "bigint", "1", REWRITE),
    ("smallint", "integer", "1", REWRITE),
    ("bigint", "integer", "1", REWRITE),
    ("char(5)", "char(10)", "'ab'", REWRITE),
    ("char(5)", "text", "'ab'", REWRITE),
    ("timestamp", "timestamp(3)", "now()", REWRITE),
    ("uuid", "text", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", REWRITE),
    ("integer", "text", "1", REWRITE),
]


@pytest.fixture(scope="module")
def schema(pg_server_url: str) -> Iterator[tuple[sa.Engine, str]]:
    engine = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    name = f"ec_types_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    yield engine, name
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    engine.dispose()


def _measure(conn: sa.Connection, table: str, old: str, new: str, value: str) -> TypeChangeCost:
    conn.exec_driver_sql("SET TimeZone = 'UTC'")
    conn.exec_driver_sql(f"CREATE TABLE {table} (id serial PRIMARY KEY, c {old})")
    conn.exec_driver_sql(f"INSERT INTO {table} (c) SELECT {value} FROM generate_series(1, 50)")
    conn.exec_driver_sql(f"CREATE INDEX ON {table} (c)")
    nodes = (
        f"SELECT pg_relation_filenode('{table}'), "
        f"(SELECT pg_relation_filenode(indexrelid) FROM pg_index "
        f"WHERE indrelid = '{table}'::regclass AND NOT indisprimary)"
    )
    before = conn.exec_driver_sql(nodes).one()
    conn.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN c TYPE {new}")
    after = conn.exec_driver_sql(nodes).one()
    if before[0] != after[0]:
        return REWRITE
    return INDEXES if before[1] != after[1] else SAFE


@pytest.mark.parametrize(("old", "new", "value", "expected"), CASES, ids=lambda c: str(c))
def test_classification_matches_what_postgres_does(
    schema: tuple[sa.Engine, str], old: str, new: str, value: str, expected: TypeChangeCost
) -> None:
    engine, name = schema
    table = f"{name}.t_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        measured = _measure(conn, table, old, new, value)
    assert measured is expected, f"PostgreSQL: {old} -> {new} is {measured}"
    verdict = classify_type_change(old, new, session_utc=True)
    assert verdict is not None and verdict.cost is expected, verdict


def test_unknown_old_type_and_using_expressions() -> None:
    assert classify_type_change(None, "text") is None
    verdict = classify_type_change("integer", "bigint", using=True)
    assert verdict is not None and verdict.cost is REWRITE
    # without TimeZone = UTC PostgreSQL rewrites timestamp <-> timestamptz
    verdict = classify_type_change("timestamp", "timestamptz")
    assert verdict is not None and verdict.cost is REWRITE


def test_spellings_of_the_same_type() -> None:
    assert parse_type("character varying(20)") == parse_type("VARCHAR(20)")
    assert parse_type("timestamp(3) with time zone") == parse_type("timestamptz(3)")
    assert parse_type("int4") == parse_type("integer")
