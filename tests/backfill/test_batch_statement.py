"""What one batch statement does per row, counted on a real database, never timed."""

from __future__ import annotations

import sqlalchemy as sa

from expandcontract.backfill import Backfill, run_backfill

SMALL = {"time_budget": 0.05, "initial_batch": 50, "progress": False}


def _items(engine: sa.Engine, rows: int, bad_every: int = 0) -> None:
    bad = f"WHEN g % {bad_every} = 0 THEN 'bad'" if bad_every else "WHEN false THEN NULL"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS items"))
        conn.execute(sa.text("DROP SEQUENCE IF EXISTS evaluations"))
        conn.execute(sa.text("CREATE SEQUENCE evaluations"))
        conn.execute(sa.text("CREATE TABLE items (id int PRIMARY KEY, raw text, a text, b text)"))
        conn.execute(
            sa.text(
                f"INSERT INTO items (id, raw) SELECT g, CASE {bad} ELSE 'v' || g END "
                "FROM generate_series(1, :n) AS g"
            ),
            {"n": rows},
        )


def _split(**changes: object) -> Backfill:
    # The source counts its own evaluations: nextval() runs once each time it is evaluated.
    spec = {
        "name": "items_split",
        "table": "items",
        "set_columns": {"a": "p.a", "b": "p.b"},
        "pending": "t.a IS NULL AND t.raw IS NOT NULL",
        "reject_reason": "p.why",
        "original": "t.raw",
        "source": "LATERAL (SELECT nextval('evaluations') AS n, upper(t.raw) AS a, "
        "lower(t.raw) AS b, CASE WHEN t.raw = 'bad' THEN 'bad value' END AS why) AS p",
    }
    return Backfill(**{**spec, **changes})


def _evaluations(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT last_value FROM evaluations")).scalar_one())


def test_an_accepted_row_is_judged_and_converted_in_one_evaluation_of_its_source(engine):
    _items(engine, 500)

    report = run_backfill(engine, _split(), **SMALL)

    assert report.rows_converted == 500 and report.batches > 3
    # Judging in WHERE and converting in SET would evaluate it twice per row (1,000).
    assert _evaluations(engine) == 500
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM items WHERE a = upper(raw) AND b = lower(raw)")
            ).scalar_one()
            == 500
        )


def test_a_rejected_row_keeps_its_values_and_is_quarantined_with_its_reason(engine):
    _items(engine, 300, bad_every=10)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE items SET b = 'kept' WHERE raw = 'bad'"))

    report = run_backfill(engine, _split(), **SMALL)

    assert (report.rows_converted, report.rows_quarantined) == (270, 30)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT raw, a, b FROM items WHERE raw = 'bad'")).all()
        quarantined = conn.execute(
            sa.text(
                "SELECT original_value, reason, count(*) FROM expandcontract_quarantine "
                "WHERE backfill_name = 'items_split' GROUP BY 1, 2"
            )
        ).all()
    assert rows == [("bad", None, "kept")] * 30
    assert quarantined == [("bad", "bad value", 30)]


def test_the_batch_settings_hold_for_its_transaction_only(engine):
    _items(engine, 200)
    settings = Backfill(
        name="items_settings",
        table="items",
        set_columns={
            "a": "current_setting('synchronous_commit')",
            "b": "current_setting('lock_timeout')",
        },
        pending="t.a IS NULL",
    )

    run_backfill(engine, settings, lock_timeout=0.25, **SMALL)

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT DISTINCT a, b FROM items")).all() == [("off", "250ms")]
        # The pooled connection the run used is back to the server's defaults.
        assert conn.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "on"
        assert conn.execute(sa.text("SHOW lock_timeout")).scalar_one() == "0"
