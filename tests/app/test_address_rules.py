"""The address rules: one SQL definition (trigger and backfill), and green's mirror of it.

Every corpus entry must give its documented result from the SQL function, from the Python
mirror, and end to end through the sync trigger and the backfill, with the original address
never changed.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
import sqlalchemy as sa

from app import address
from app.validation import StructuredAddress
from tests.app.address_corpus import ACCEPTED, CORPUS, REJECTED

PARSE_MANY = sa.text(
    "SELECT u.i, p.* FROM unnest(CAST(:values AS text[])) WITH ORDINALITY AS u(v, i), "
    "LATERAL customers_address_parse(u.v) AS p ORDER BY u.i"
)


def sql_parse_many(engine: sa.Engine, values: list[str | None]) -> list[tuple]:
    """``(parts or None, reason)`` from the SQL function, for each value in order."""
    with engine.connect() as connection:
        rows = connection.execute(PARSE_MANY, {"values": values}).mappings().all()
    return [
        (
            None
            if row["reject_reason"]
            else (row["street_address"], row["city"], row["state"], row["zip_code"]),
            row["reject_reason"],
        )
        for row in rows
    ]


def documented(expected: tuple | str) -> tuple:
    return (None, expected) if isinstance(expected, str) else (expected, None)


def python_parse(value: str | None) -> tuple:
    parts, reason = address.parse(value)
    return (None if parts is None else dataclasses.astuple(parts), reason)


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 50
    assert len(ACCEPTED) >= 20 and len(REJECTED) >= 30


@pytest.mark.parametrize(("value", "expected"), CORPUS, ids=[f"#{i}" for i in range(len(CORPUS))])
def test_python_mirror_gives_the_documented_result(value: str | None, expected) -> None:
    assert python_parse(value) == documented(expected)


def test_sql_function_gives_the_documented_result(upgrade, engine: sa.Engine) -> None:
    upgrade("expand@head")
    results = sql_parse_many(engine, [value for value, _ in CORPUS])
    wrong = [
        (value, got, documented(expected))
        for (value, expected), got in zip(CORPUS, results, strict=True)
        if got != documented(expected)
    ]
    assert wrong == []


def test_sql_and_python_agree_on_generated_input(upgrade, engine: sa.Engine) -> None:
    """Thousands of generated near-addresses: the mirror never disagrees with the SQL function."""
    upgrade("expand@head")
    rng = random.Random(20261126)
    alphabet = list(" ,,,,\t\n-aAzZ0123456789é🚀ＡSt") + ["IL", "ny", "62701", "1234", ", ", " , "]
    values = ["".join(rng.choices(alphabet, k=rng.randint(0, 24))) for _ in range(3000)]
    values += [
        ", ".join(
            rng.choice(["1 Main St", "Apt 2", "", " ", "Boise", "ID", "id", "83702", "8370"])
            for _ in range(rng.randint(1, 7))
        )
        for _ in range(2000)
    ]
    results = sql_parse_many(engine, values)
    assert results == [python_parse(v) for v in values]
    # The generator reaches every rule, not just one kind of rejection.
    outcomes = {"accepted" if reason is None else reason.split()[0] for _, reason in results}
    assert outcomes >= {"accepted", "address", "expected", "part", "state", "zip"}


def test_compose_is_the_inverse_of_parse(upgrade, engine: sa.Engine) -> None:
    upgrade("expand@head")
    with engine.connect() as connection:
        for _, parts in ACCEPTED:
            flat = connection.execute(
                sa.text("SELECT customers_address_compose(:s, :c, :st, :z)"),
                dict(zip(("s", "c", "st", "z"), parts, strict=True)),
            ).scalar_one()
            assert flat == address.compose(StructuredAddress(*parts))
            assert python_parse(flat) == (parts, None)


def test_trigger_and_backfill_apply_the_rules_and_keep_the_original(
    upgrade, engine: sa.Engine, db
) -> None:
    """Legacy rows (backfill) and rows blue writes after the expand (trigger) alike."""
    upgrade("0001_customers")
    insert = "INSERT INTO customers (name, email, address) VALUES (:name, :email, :address)"
    for i, (value, _) in enumerate(CORPUS):
        db(insert, {"name": f"legacy {i}", "email": f"legacy{i}@example.test", "address": value})
    upgrade("expand@head")
    for i, (value, _) in enumerate(CORPUS):
        db(insert, {"name": f"live {i}", "email": f"live{i}@example.test", "address": value})
    upgrade("migrate@head")

    rows = db("SELECT * FROM customers ORDER BY id")
    quarantined = {
        int(row["primary_key"]): row["reason"]
        for row in db("SELECT primary_key, reason FROM expandcontract_quarantine")
    }
    assert len(rows) == 2 * len(CORPUS)
    for row, (value, expected) in zip(rows, CORPUS + CORPUS, strict=True):
        assert row["address"] == value, "the original address must never change"
        parts = (row["street_address"], row["city"], row["state"], row["zip_code"])
        if isinstance(expected, tuple):
            assert parts == expected
            assert row["id"] not in quarantined
        else:
            assert parts == (None, None, None, None)
            if value is None:
                assert row["id"] not in quarantined  # no address is not a broken address
            else:
                assert quarantined[row["id"]] == expected
