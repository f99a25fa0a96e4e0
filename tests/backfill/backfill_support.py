"""Shared data for the backfill tests: an address table with good, malformed and empty rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

PART3 = "TRIM(SPLIT_PART(t.address, ',', 3))"

SPEC: dict[str, Any] = {
    "name": "split_address",
    "table": "customers",
    "set_columns": {
        "street": "TRIM(SPLIT_PART(t.address, ',', 1))",
        "city": "TRIM(SPLIT_PART(t.address, ',', 2))",
        "state": f"SPLIT_PART({PART3}, ' ', 1)",
        "zip": f"SPLIT_PART({PART3}, ' ', 2)",
    },
    "pending": "t.street IS NULL AND t.address IS NOT NULL",
    "reject_reason": "CASE WHEN t.address NOT LIKE '%,%,%' "
    "THEN 'not \"street, city, state zip\"' END",
    "original": "t.address",
}

REJECTED_REASON = 'not "street, city, state zip"'

# Row kinds by id: no commas (rejected by reject_reason), a state name too long for
# varchar(2) (the conversion itself raises), no address at all (nothing to convert).
ADDRESS_SQL = """
    CASE
        WHEN g % 500 = 7 THEN 'no commas here ' || g
        WHEN g % 700 = 3 THEN g || ' Lake Rd, Chicago, Illinois 60601'
        WHEN g % 300 = 11 THEN NULL
        ELSE g || ' Main St, City' || (g % 50) || ', '
             || (ARRAY['IL', 'OR', 'TX'])[1 + g % 3] || ' ' || lpad((g % 99999)::text, 5, '0')
    END
"""


def row_kind(i: int) -> str:
    if i % 500 == 7:
        return "rejected"
    if i % 700 == 3:
        return "raises"
    if i % 300 == 11:
        return "empty"
    return "good"


def expected_split(address: str) -> tuple[str, str, str, str]:
    """The conversion, in Python, for a well-formed address."""
    street, city, rest = (part.strip() for part in address.split(",", 2))
    state, zip_code = rest.split(" ", 1)
    return street, city, state, zip_code


def create_customers(
    engine: sa.Engine, rows: int, table: str = "customers", primary_key: bool = True
) -> None:
    key = "PRIMARY KEY" if primary_key else ""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} (id bigint {key}, address text, street text, city text, "
                "state varchar(2), zip varchar(10))"
            )
        )
        conn.execute(
            sa.text(
                f"INSERT INTO {table} (id, address) SELECT g, {ADDRESS_SQL} "
                "FROM generate_series(1, :n) AS g"
            ),
            {"n": rows},
        )


def table_rows(engine: sa.Engine, table: str = "customers") -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(f"SELECT id, address, street, city, state, zip FROM {table} ORDER BY id")
            )
        ]


def quarantine_rows(engine: sa.Engine, name: str = "split_address") -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT primary_key, original_value, reason FROM expandcontract_quarantine "
                    "WHERE backfill_name = :n ORDER BY primary_key::bigint"
                ),
                {"n": name},
            )
        ]
