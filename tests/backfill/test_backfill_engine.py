"""The backfill engine on a real database: conversion, quarantine, paging, sizing, progress."""

from __future__ import annotations

import io
import re
import time

import pytest
import sqlalchemy as sa

from expandcontract.backfill import (
    Backfill,
    BackfillBusy,
    BackfillSpecError,
    backfill_complete,
    list_quarantine,
    open_quarantine_count,
    resolve_quarantine,
    run_backfill,
)
from expandcontract.backfill.engine import lock_key
from tests.backfill.backfill_support import (
    REJECTED_REASON,
    SPEC,
    expected_split,
    quarantine_rows,
    row_kind,
    table_rows,
)

SMALL = {"time_budget": 0.05, "initial_batch": 100, "progress": False}


def spec(**changes: object) -> Backfill:
    return Backfill(**{**SPEC, **changes})


def check_converted(rows: list[tuple]) -> None:
    """Every good row split correctly; every other row exactly as it was."""
    for id_, address, *split in rows:
        kind = row_kind(id_)
        if kind == "good":
            assert tuple(split) == expected_split(address), id_
        else:
            assert split == [None] * 4, id_
            if kind == "empty":
                assert address is None


def test_converts_every_pending_row(engine, customers):
    customers(3000)
    with engine.connect() as conn:
        assert not backfill_complete(conn, spec())

    report = run_backfill(engine, spec(), **SMALL)

    rows = table_rows(engine)
    check_converted(rows)
    good = sum(1 for r in rows if row_kind(r[0]) == "good")
    assert report.complete and not report.stopped
    assert report.rows_converted == good
    assert report.scanned == 3000
    assert report.key == ("id",)
    with engine.connect() as conn:
        assert backfill_complete(conn, spec())
        status = conn.execute(
            sa.text("SELECT status FROM expandcontract_backfill_state WHERE name = :n"),
            {"n": "split_address"},
        ).scalar()
    assert status == "complete"


def test_bad_rows_are_quarantined_and_left_untouched(engine, customers):
    customers(3000)
    before = {r[0]: r[1] for r in table_rows(engine)}

    report = run_backfill(engine, spec(), **SMALL)

    quarantined = quarantine_rows(engine)
    expected_ids = [i for i in range(1, 3001) if row_kind(i) in ("rejected", "raises")]
    assert [int(q[0]) for q in quarantined] == expected_ids
    assert report.rows_quarantined == len(expected_ids)
    for key, original, reason in quarantined:
        assert original == before[int(key)]
        if row_kind(int(key)) == "rejected":
            assert reason == REJECTED_REASON
        else:
            assert "value too long for type character varying(2)" in reason
    after = {r[0]: r for r in table_rows(engine)}
    for id_ in expected_ids:
        assert after[id_] == (id_, before[id_], None, None, None, None)
    with engine.connect() as conn:
        assert open_quarantine_count(conn, "customers") == len(expected_ids)
        assert open_quarantine_count(conn, "customers", "other_backfill") == 0
        # Quarantined rows do not keep the backfill from counting as complete ...
        assert backfill_complete(conn, spec())
        # ... but they stay open until someone resolves them.
        assert (
            resolve_quarantine(conn, "customers", keys=[expected_ids[0]], resolution="fixed") == 1
        )
        conn.commit()
        assert open_quarantine_count(conn, "customers") == len(expected_ids) - 1
        resolved = list_quarantine(conn, "customers", include_resolved=True)[0]
        assert resolved.resolution == "fixed" and resolved.resolved_at is not None
        resolve_quarantine(conn, "customers")
        conn.commit()
        assert open_quarantine_count(conn, "customers") == 0


def test_running_again_converts_nothing_twice_and_adds_no_quarantine_rows(engine, customers):
    customers(2000)
    run_backfill(engine, spec(), **SMALL)
    first_rows, first_quarantine = table_rows(engine), quarantine_rows(engine)

    again = run_backfill(engine, spec(), **SMALL)

    assert again.complete and again.resumed_from is None
    assert again.rows_converted == 0 and again.rows_quarantined == 0
    assert table_rows(engine) == first_rows
    assert quarantine_rows(engine) == first_quarantine


def test_rows_the_sync_trigger_already_filled_are_skipped(engine, customers):
    customers(1000)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE customers SET street = 'from trigger', city = 'c', state = 'ZZ', "
                "zip = 'z' WHERE id % 4 = 0"
            )
        )

    report = run_backfill(engine, spec(), **SMALL)

    rows = table_rows(engine)
    for id_, _, *split in rows:
        if id_ % 4 == 0:
            assert split == ["from trigger", "c", "ZZ", "z"]
    pending_good = sum(1 for r in rows if r[0] % 4 and row_kind(r[0]) == "good")
    assert report.rows_converted == pending_good


def test_batch_size_adapts_upward_to_the_time_budget(engine, customers):
    customers(20000)
    report = run_backfill(
        engine,
        spec(reject_reason=None, pending="t.street IS NULL AND t.address LIKE '%Main%'"),
        time_budget=0.1,
        initial_batch=50,
        progress=False,
    )
    assert report.complete
    # 400 batches at a fixed 50 rows; batches grown towards 100 ms need far fewer (how many
    # rows fit in 100 ms depends on the machine, so the bounds are loose).
    assert report.batches < 100
    assert report.final_batch_size > 100


def test_the_last_short_range_does_not_shrink_the_batch_size(engine, customers):
    """Batches far below the budget double: 50, 100, 200, 400; the next (800) finds only the
    250 rows left. The size the run reports is the one it reached, not twice the remainder."""
    customers(1000)
    report = run_backfill(
        engine,
        spec(reject_reason=None, pending="t.street IS NULL AND t.address LIKE '%Main%'"),
        time_budget=30,
        initial_batch=50,
        progress=False,
    )
    assert report.complete
    assert report.batches == 5
    assert report.final_batch_size == 800


def test_table_without_primary_key_is_paged_by_ctid(engine, customers):
    customers(3000, primary_key=False)

    report = run_backfill(engine, spec(), time_budget=0.05, initial_batch=200, progress=False)

    assert report.key == ("ctid",)
    assert report.batches > 1
    check_converted(table_rows(engine))
    with engine.connect() as conn:
        quarantined = list_quarantine(conn, "customers")
        assert backfill_complete(conn, spec())
    assert len(quarantined) == sum(
        1 for i in range(1, 3001) if row_kind(i) in ("rejected", "raises")
    )
    assert all(re.fullmatch(r"\(\d+,\d+\)", q.primary_key) for q in quarantined)


def test_composite_primary_key(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE orders (region text, no int, address text, street text, "
                "city text, state varchar(2), zip varchar(10), PRIMARY KEY (region, no))"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO orders (region, no, address) SELECT r, g, "
                "g || ' Main St, Salem, OR 97301' FROM unnest(ARRAY['eu', 'us', 'ap']) AS r, "
                "generate_series(1, 700) AS g"
            )
        )
        conn.execute(sa.text("UPDATE orders SET address = 'bad' WHERE region = 'us' AND no = 5"))

    report = run_backfill(engine, spec(table="orders", name="orders_split"), **SMALL)

    assert report.key == ("region", "no") and report.batches > 1
    assert report.rows_converted == 2099
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM orders WHERE street IS NULL")).scalar()
        (entry,) = list_quarantine(conn, "orders")
    assert left == 1
    assert entry.primary_key == "(us,5)" and entry.original_value == "bad"


def test_source_function_feeds_the_expressions(engine, customers):
    customers(1500)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE FUNCTION parse_address(a text, OUT street text, OUT city text, "
                "OUT state text, OUT zip text) LANGUAGE sql IMMUTABLE AS $$ SELECT "
                "TRIM(SPLIT_PART(a, ',', 1)), TRIM(SPLIT_PART(a, ',', 2)), "
                "SPLIT_PART(TRIM(SPLIT_PART(a, ',', 3)), ' ', 1), "
                "SPLIT_PART(TRIM(SPLIT_PART(a, ',', 3)), ' ', 2) $$"
            )
        )
    parsed = spec(
        source="LATERAL parse_address(t.address) AS p",
        set_columns={c: f"p.{c}" for c in ("street", "city", "state", "zip")},
        reject_reason="CASE WHEN p.zip = '' THEN 'no zip code' END",
    )

    report = run_backfill(engine, parsed, **SMALL)

    check_converted(table_rows(engine))
    reasons = {int(k): r for k, _, r in quarantine_rows(engine)}
    assert reasons[7] == "no zip code"
    assert "too long" in reasons[3]
    assert report.rows_quarantined == len(reasons)


class StopAfter:
    """A stop_event that turns set after ``n`` checks."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_stop_event_keeps_the_cursor_and_the_next_run_resumes(engine, customers):
    customers(3000)
    first = run_backfill(engine, spec(), **SMALL, stop_event=StopAfter(15))
    assert first.stopped and not first.complete
    with engine.connect() as conn:
        status, last_key = conn.execute(
            sa.text("SELECT status, last_key FROM expandcontract_backfill_state")
        ).one()
        assert not backfill_complete(conn, spec())
    assert status == "stopped" and last_key is not None
    untouched = [r for r in table_rows(engine) if r[0] > int(last_key[0])]
    assert all(r[2:] == (None,) * 4 for r in untouched)

    second = run_backfill(engine, spec(), **SMALL)

    assert second.resumed_from == tuple(last_key)
    assert second.complete
    check_converted(table_rows(engine))
    keys = [q[0] for q in quarantine_rows(engine)]
    assert len(keys) == len(set(keys)) == first.rows_quarantined + second.rows_quarantined


def test_progress_lines_when_not_on_a_terminal(engine, customers):
    customers(2000)
    stream = io.StringIO()
    run_backfill(
        engine,
        spec(),
        time_budget=0.05,
        initial_batch=100,
        progress_stream=stream,
        progress_interval=0,
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) > 3
    pattern = (
        r"backfill split_address: [\d,]+/[\d,]+ rows \(\d+\.\d%\), [\d,]+ rows/s, "
        r"ETA \d+:\d\d:\d\d, converted [\d,]+, quarantined [\d,]+"
    )
    assert all(re.fullmatch(pattern, line) for line in lines), lines[:3]
    assert lines[-1].startswith("backfill split_address: 2,000/2,000 rows (100.0%)")


def test_progress_false_prints_nothing(engine, customers, capsys):
    customers(300)
    run_backfill(engine, spec(), progress=False)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"table": "nope"}, "table 'nope' does not exist"),
        ({"set_columns": {"streeet": "t.address"}}, "has no column 'streeet'"),
        ({"pending": "t.no_such_column IS NULL"}, "its SQL is invalid"),
    ],
)
def test_a_wrong_spec_is_a_clear_error(engine, customers, changes, message):
    customers(10)
    with pytest.raises(BackfillSpecError, match=re.escape(message)):
        run_backfill(engine, spec(**changes), progress=False)


@pytest.mark.parametrize("option", ["time_budget", "lock_timeout"])
def test_a_non_positive_timing_option_is_a_clear_error(engine, option):
    with pytest.raises(BackfillSpecError, match=f"{option} must be positive"):
        run_backfill(engine, spec(), progress=False, **{option: 0})


def test_spec_without_pending_is_refused():
    with pytest.raises(BackfillSpecError, match="pending is required"):
        Backfill(name="x", table="t", set_columns={"a": "1"}, pending="")


def test_a_second_runner_of_the_same_backfill_is_refused(engine, customers):
    customers(10)
    with engine.connect() as holder:
        key = {"key": lock_key(spec().name)}
        holder.execute(sa.text("SELECT pg_advisory_lock(hashtext(:key))"), key)
        with pytest.raises(BackfillBusy, match="already running"):
            run_backfill(engine, spec(), progress=False, lock_wait=0.3)
        holder.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), key)
    assert run_backfill(engine, spec(), progress=False).complete


def test_quarantine_helpers_before_any_backfill(engine):
    with engine.connect() as conn:
        assert open_quarantine_count(conn, "customers") == 0
        assert list_quarantine(conn) == []
        assert resolve_quarantine(conn, "customers") == 0


def test_a_rerun_resolves_quarantined_rows_that_were_fixed_since(engine, customers):
    customers(1000)
    run_backfill(engine, spec(), **SMALL)
    with engine.connect() as conn:
        before = open_quarantine_count(conn, "customers")
    with engine.begin() as conn:
        # Someone corrects row 7 (it had no commas); blue rewrites it, the trigger would split it.
        conn.execute(
            sa.text(
                "UPDATE customers SET address = '7 Fixed St, Salem, OR 97301', "
                "street = '7 Fixed St', city = 'Salem', state = 'OR', zip = '97301' WHERE id = 7"
            )
        )

    report = run_backfill(engine, spec(), **SMALL)

    assert report.quarantine_resolved == 1
    with engine.connect() as conn:
        assert open_quarantine_count(conn, "customers") == before - 1
        (entry,) = [
            q for q in list_quarantine(conn, "customers", include_resolved=True) if q.resolved_at
        ]
    assert entry.primary_key == "7" and entry.resolution.startswith("converted later")


class Deadline:
    """A stop_event that turns set after ``seconds``: a run that would spin forever fails."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def is_set(self) -> bool:
        return time.monotonic() > self.at


def test_a_row_on_which_reject_reason_raises_is_quarantined(engine, customers):
    customers(2000)
    # Division by zero on row 1234 only (a good row otherwise).
    reject = (
        "CASE WHEN t.address NOT LIKE '%,%,%' THEN 'no commas' "
        "WHEN 1/(t.id - 1234) > 5 THEN 'never' END"
    )

    report = run_backfill(engine, spec(reject_reason=reject), **SMALL, stop_event=Deadline(60))

    assert report.complete
    reasons = {int(k): r for k, _, r in quarantine_rows(engine)}
    assert reasons[1234] == "conversion failed: division by zero"
    rows = {r[0]: r for r in table_rows(engine)}
    assert rows[1234][2:] == (None,) * 4
    good = [r for i, r in rows.items() if row_kind(i) == "good" and i != 1234]
    assert all(tuple(r[2:]) == expected_split(r[1]) for r in good)


def test_a_mixed_case_table_is_found_as_the_operations_name_it(engine):
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "Accounts" (id int PRIMARY KEY, a text, b text)'))
        conn.execute(sa.text("INSERT INTO \"Accounts\" (id, a) VALUES (1, 'x'), (2, 'y')"))
    accounts = Backfill(
        name="acc", table="Accounts", set_columns={"b": "t.a"}, pending="t.b IS NULL"
    )

    assert run_backfill(engine, accounts, progress=False).rows_converted == 2
    with engine.connect() as conn:
        assert backfill_complete(conn, accounts)
