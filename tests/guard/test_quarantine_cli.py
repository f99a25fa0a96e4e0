"""``expandcontract quarantine list|resolve`` over the backfill engine's quarantine table."""

from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from expandcontract.backfill import Backfill, open_quarantine_count, run_backfill
from expandcontract.cli import main


def test_list_and_resolve_quarantined_rows(engine: sa.Engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (id int PRIMARY KEY, raw text, n int)"))
        conn.execute(sa.text("INSERT INTO people VALUES (1, '10', NULL), (2, 'ten', NULL)"))
    spec = Backfill(
        name="people_n",
        table="people",
        set_columns={"n": "t.raw::int"},
        pending="t.n IS NULL",
        reject_reason="CASE WHEN t.raw !~ '^[0-9]+$' THEN 'not a number' END",
        original="t.raw",
    )
    run_backfill(engine, spec, progress=False)
    runner = CliRunner()
    listed = runner.invoke(
        main, ["quarantine", "list", "--format", "json", "--database-url", database_url]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["primary_key"], r["original"], r["reason"]) for r in rows] == [
        ("2", "ten", "not a number")
    ]
    missing = runner.invoke(
        main, ["quarantine", "resolve", "people", "--database-url", database_url]
    )
    assert missing.exit_code == 2
    resolved = runner.invoke(
        main,
        [
            "quarantine",
            "resolve",
            "people",
            "--key",
            "2",
            "--resolution",
            "accepted as is",
            "--database-url",
            database_url,
        ],
    )
    assert resolved.exit_code == 0, resolved.output
    assert "resolved 1 quarantined row(s) of people" in resolved.output
    with engine.connect() as conn:
        assert open_quarantine_count(conn, "people") == 0
        assert conn.execute(sa.text("SELECT raw FROM people WHERE id = 2")).scalar() == "ten"


def test_list_says_when_it_shows_only_some_rows(engine: sa.Engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE codes (id int PRIMARY KEY, raw text, n int)"))
        conn.execute(
            sa.text("INSERT INTO codes SELECT i, 'x' || i, NULL FROM generate_series(1, 12) i")
        )
    spec = Backfill(
        name="codes_n",
        table="codes",
        set_columns={"n": "t.raw::int"},
        pending="t.n IS NULL",
        reject_reason="CASE WHEN t.raw !~ '^[0-9]+$' THEN 'not a number' END",
        original="t.raw",
    )
    run_backfill(engine, spec, progress=False)
    runner = CliRunner()
    base = ["quarantine", "list", "--table", "codes", "--database-url", database_url]

    cut = runner.invoke(main, [*base, "--limit", "5"])
    everything = runner.invoke(main, [*base, "--limit", "0"])

    assert cut.exit_code == 0, cut.output
    assert cut.output.count("original:") == 5
    assert "showing 5 of 12 quarantined rows" in cut.output
    assert everything.output.count("original:") == 12 and "showing" not in everything.output
