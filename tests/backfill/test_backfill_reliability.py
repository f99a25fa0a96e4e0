"""The backfill under crashes, signals and concurrent writes (real processes, real database)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from expandcontract.backfill import Backfill, backfill_complete, run_backfill
from tests.backfill.backfill_support import (
    SPEC,
    expected_split,
    quarantine_rows,
    row_kind,
    table_rows,
)

DRIVER = Path(__file__).with_name("backfill_driver.py")
# Slow enough to be caught halfway: small batches with a pause between them.
SLOW = ["--time-budget", "0.05", "--delay", "0.05", "--initial-batch", "100", "--max-batch", "200"]


def start_driver(url: str, spec: dict, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), url, json.dumps(spec), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def saved_state(engine: sa.Engine, name: str = "split_address") -> tuple | None:
    with engine.connect() as conn:
        if not conn.execute(
            sa.text("SELECT to_regclass('expandcontract_backfill_state')")
        ).scalar():
            return None
        return conn.execute(
            sa.text(
                "SELECT status, last_key, scanned FROM expandcontract_backfill_state "
                "WHERE name = :n"
            ),
            {"n": name},
        ).first()


def wait_until_scanned(engine: sa.Engine, rows: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = saved_state(engine)
        if state is not None and state.scanned >= rows:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"the backfill did not reach {rows} rows in time")


def test_killed_run_resumes_and_ends_like_an_uninterrupted_run(engine, database_url, customers):
    customers(4000)
    customers(4000, table="reference")
    run_backfill(
        engine, Backfill(**{**SPEC, "table": "reference", "name": "reference"}), progress=False
    )

    proc = start_driver(database_url, SPEC, *SLOW)
    wait_until_scanned(engine, 1500, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    status, last_key, scanned = saved_state(engine)
    assert status == "running" and 1500 <= scanned < 4000

    again = start_driver(database_url, SPEC)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    assert result["complete"] and result["resumed_from"] == last_key

    assert table_rows(engine) == table_rows(engine, "reference")
    killed, reference = quarantine_rows(engine), quarantine_rows(engine, "reference")
    assert killed == reference
    assert len({key for key, _, _ in killed}) == len(killed)


def test_sigterm_stops_cleanly_with_the_cursor_saved(engine, database_url, customers):
    customers(4000)
    proc = start_driver(database_url, SPEC, *SLOW)
    wait_until_scanned(engine, 1000, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130
    assert "stopped by SIGTERM" in err and "run it again to resume" in err
    # Not a terminal: periodic progress lines with rate and ETA.
    assert re.search(r"backfill split_address: [\d,]+/4,000 rows .*rows/s, ETA \d+:\d\d:\d\d", err)
    status, last_key, scanned = saved_state(engine)
    assert status == "stopped" and scanned < 4000
    cursor = int(last_key[0])
    for id_, address, *split in table_rows(engine):
        if id_ > cursor:
            assert split == [None] * 4
        elif row_kind(id_) == "good":
            assert tuple(split) == expected_split(address)
    with engine.connect() as conn:
        open_transactions = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        ).scalar()
    assert open_transactions == 0

    again = start_driver(database_url, SPEC)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["resumed_from"] == last_key
    with engine.connect() as conn:
        assert backfill_complete(conn, Backfill(**SPEC))


# Two-way, like the split-column pattern's: blue writes `address`, green the split columns.
SYNC_TRIGGER = f"""
CREATE FUNCTION customers_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.address IS DISTINCT FROM OLD.address THEN
        SELECT {", ".join(SPEC["set_columns"].values())}
          INTO NEW.street, NEW.city, NEW.state, NEW.zip
          FROM (SELECT NEW.address) AS t (address);
    ELSIF (NEW.street, NEW.city, NEW.state, NEW.zip)
          IS DISTINCT FROM (OLD.street, OLD.city, OLD.state, OLD.zip) THEN
        NEW.address := NEW.street || ', ' || NEW.city || ', ' || NEW.state || ' ' || NEW.zip;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER customers_sync BEFORE INSERT OR UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_sync();
"""


def test_writes_during_the_backfill_end_up_correct(engine, customers):
    customers(3000)
    with engine.begin() as conn:
        # Only well-formed rows here: this test is about concurrency, not quarantine.
        conn.execute(sa.text("UPDATE customers SET address = id || ' Main St, Salem, OR 97301'"))
        conn.execute(sa.text(SYNC_TRIGGER))
    finished = threading.Event()
    writes: list[int] = []

    def writer() -> None:
        rng = random.Random(7)
        with engine.connect() as conn:
            next_id = 10_000
            while not finished.is_set():
                target = rng.randint(1, 3000)
                with conn.begin():
                    # blue: writes only the old column
                    conn.execute(
                        sa.text("UPDATE customers SET address = :a WHERE id = :id"),
                        {"a": f"{target} Writer Ave, Newtown, TX 7{target:04d}", "id": target},
                    )
                    # green: writes only the new columns, of another row
                    conn.execute(
                        sa.text(
                            "UPDATE customers SET street = :s, city = 'Green Bay', state = 'WI', "
                            "zip = '54301' WHERE id = :id"
                        ),
                        {"s": f"{target} Green St", "id": 3001 - target},
                    )
                    conn.execute(
                        sa.text("INSERT INTO customers (id, address) VALUES (:id, :a)"),
                        {"id": next_id, "a": f"{next_id} New Rd, Austin, TX 78701"},
                    )
                writes.append(target)
                next_id += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = run_backfill(
            engine,
            Backfill(**SPEC),
            time_budget=0.05,
            delay=0.03,
            initial_batch=100,
            max_batch=300,
            progress=False,
        )
    finally:
        finished.set()
        thread.join()

    assert report.complete and len(writes) > 20
    rows = table_rows(engine)
    assert len(rows) == 3000 + len(writes)
    for id_, address, *split in rows:
        assert tuple(split) == expected_split(address), (id_, address, split)
    # Green's writes reached the old column too.
    assert any(r[1].endswith("Green Bay, WI 54301") for r in rows)
    assert quarantine_rows(engine) == []


def pending_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM customers WHERE street IS NULL AND address IS NOT NULL")
        ).scalar_one()


@pytest.mark.parametrize("pause", [0.0, 0.01], ids=["busy writer", "steady writer"])
def test_ctid_backfill_with_a_concurrent_writer_leaves_nothing_pending(
    engine, customers, pause: float
):
    """No primary key: the backfill walks pages while the app keeps updating other columns,
    which moves rows to new pages (behind the pass, or past the page it stops at). Afterwards
    no row is pending, and the state says ``complete`` only when that is true, at every
    moment: each time the status is ``complete`` the table has nothing pending."""
    customers(4000, primary_key=False)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET address = id || ' Main St, Salem, OR 97301'"))
        conn.execute(sa.text("ALTER TABLE customers ADD COLUMN visits int NOT NULL DEFAULT 0"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("VACUUM FULL customers"))  # packed pages: updates move rows
    finished = threading.Event()
    moved: list[int] = []
    false_completes: list[tuple] = []

    def writer() -> None:
        rng = random.Random(25)
        with engine.connect() as conn:
            while not finished.is_set():
                low = rng.randint(1, 3950)
                with conn.begin():
                    count = conn.execute(
                        sa.text(
                            "UPDATE customers SET visits = visits + 1 "
                            "WHERE id BETWEEN :low AND :low + 49"
                        ),
                        {"low": low},
                    ).rowcount
                moved.append(count)
                time.sleep(pause)

    def watcher() -> None:
        """Reads the state and the table in one snapshot, over and over."""
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            while not finished.is_set():
                with conn.begin():
                    state = saved_state_on(conn)
                    if state is not None and state.status == "complete":
                        left = conn.execute(
                            sa.text(
                                "SELECT count(*) FROM customers "
                                "WHERE street IS NULL AND address IS NOT NULL"
                            )
                        ).scalar_one()
                        if left:
                            false_completes.append((state, left))
                time.sleep(0.002)

    threads = [threading.Thread(target=writer), threading.Thread(target=watcher)]
    for thread in threads:
        thread.start()
    try:
        report = run_backfill(
            engine,
            Backfill(**SPEC),
            time_budget=0.03,
            delay=0.02,
            initial_batch=100,
            max_batch=400,
            progress=False,
        )
    finally:
        finished.set()
        for thread in threads:
            thread.join()

    assert sum(moved) > 500, "the writer hardly ran"
    assert false_completes == [], false_completes[:3]
    state = saved_state(engine)
    if report.complete:
        assert state.status == "complete"
        assert pending_rows(engine) == 0
    else:
        # The writer kept moving rows through every pass: an honest "stopped", and a run
        # after the writer is gone finishes the job.
        assert state.status == "stopped" and report.stopped
        assert pending_rows(engine) > 0
        report = run_backfill(engine, Backfill(**SPEC), progress=False)
        assert report.complete and saved_state(engine).status == "complete"
    assert pending_rows(engine) == 0
    for id_, address, *split in table_rows(engine):
        assert tuple(split) == expected_split(address), (id_, address, split)
    with engine.connect() as conn:
        assert backfill_complete(conn, Backfill(**SPEC))


def saved_state_on(conn: sa.Connection, name: str = "split_address") -> tuple | None:
    if not conn.execute(sa.text("SELECT to_regclass('expandcontract_backfill_state')")).scalar():
        return None
    return conn.execute(
        sa.text(
            "SELECT status, last_key, scanned FROM expandcontract_backfill_state WHERE name = :n"
        ),
        {"n": name},
    ).first()
