"""Every pattern through expand -> migrate -> contract on a real database, with the writes of
both releases (from other connections) arriving while the old and the new shape coexist."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from expandcontract.backfill import resolve_quarantine
from expandcontract.errors import PreconditionFailed
from expandcontract.ops.patterns import PATTERNS

SPLIT = """
ADDRESS = SplitColumn(
    "customers",
    "address",
    {"street": "text", "city": "text", "state": "varchar(2)", "zip": "varchar(5)"},
    parse=r'''
        SELECT m[1], m[2], m[3], m[4], CASE WHEN m IS NULL THEN address_split_why(value) END
        FROM (SELECT regexp_match(value, '^\\s*([^,]+?)\\s*,\\s*([^,]+?)\\s*,\\s*([A-Z]{2})\\s+(\\d{5})\\s*$') AS m) AS s
    ''',
    compose="SELECT street || ', ' || city || ', ' || state || ' ' || zip",
    name="address_split",
    # The reason, in a helper the parse calls: installed before it, dropped with it.
    helpers=[
        SqlFunction(
            "address_split_why",
            "value text",
            "text",
            '''BEGIN RETURN 'not "street, city, ST 12345": ' || value; END''',
            language="plpgsql",
        )
    ],
)
"""

SCENE = """
op.execute("CREATE TABLE customers (id bigserial PRIMARY KEY, name text, address text)")
op.execute('''INSERT INTO customers (name, address) VALUES
    ('Ada', '1 Main St, Springfield, IL 62701'),
    ('Grace', '2 Navy Rd, Arlington, VA 22202'),
    ('Nobody', NULL),
    ('Broken', 'somewhere over the rainbow')''')
"""


def _three_phases(project, pattern: str) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision(
        "p_expand", "expand", f"{pattern}.expand(op)", f"{pattern}.revert(op, 'expand')"
    )
    project.revision(
        "p_migrate",
        "migrate",
        f"{pattern}.migrate(op)",
        f"{pattern}.revert(op, 'migrate')",
        depends_on=["p_expand"],
    )
    project.revision(
        "p_contract",
        "contract",
        f"{pattern}.contract(op)",
        f"{pattern}.revert(op, 'contract')",
        depends_on=["p_migrate"],
    )


def _split(project) -> list[tuple]:
    return project.rows("SELECT name, street, city, state, zip FROM customers ORDER BY id")


def test_split_column(make_project) -> None:
    project = make_project("split", preamble=SPLIT)
    _three_phases(project, "ADDRESS")

    project.upgrade("expand@head")
    assert project.columns("customers")[-4:] == ["street", "city", "state", "zip"]
    assert project.has_trigger("customers", "address_split_sync")
    # Blue writes only the flat address; green writes only the structured columns.
    project.sql(
        "INSERT INTO customers (name, address) VALUES ('blue', '9 Elm St, Austin, TX 73301')"
    )
    project.sql(
        "INSERT INTO customers (name, street, city, state, zip) "
        "VALUES ('green', '5 Oak Ave', 'Denver', 'CO', '80202')"
    )
    project.sql("UPDATE customers SET address = '3 Pine Ct, Salem, OR 97301' WHERE name = 'Ada'")
    project.sql("UPDATE customers SET city = 'Boulder', zip = '80301' WHERE name = 'green'")
    project.sql("INSERT INTO customers (name, address) VALUES ('blue-bad', 'no commas here')")
    assert project.rows(
        "SELECT name, address, street, city, state, zip FROM customers "
        "WHERE name IN ('Ada', 'blue', 'green', 'blue-bad') ORDER BY id"
    ) == [
        ("Ada", "3 Pine Ct, Salem, OR 97301", "3 Pine Ct", "Salem", "OR", "97301"),
        ("blue", "9 Elm St, Austin, TX 73301", "9 Elm St", "Austin", "TX", "73301"),
        ("green", "5 Oak Ave, Boulder, CO 80301", "5 Oak Ave", "Boulder", "CO", "80301"),
        # Unparseable: the write succeeds, the new columns stay empty, the value is untouched.
        ("blue-bad", "no commas here", None, None, None, None),
    ]
    # Old rows are not converted before the backfill.
    assert _split(project)[1] == ("Grace", None, None, None, None)

    project.upgrade("migrate@head")
    assert _split(project)[:3] == [
        ("Ada", "3 Pine Ct", "Salem", "OR", "97301"),
        ("Grace", "2 Navy Rd", "Arlington", "VA", "22202"),
        ("Nobody", None, None, None, None),
    ]
    quarantined = project.rows(
        "SELECT original_value, reason FROM expandcontract_quarantine ORDER BY original_value"
    )
    assert [q[0] for q in quarantined] == ["no commas here", "somewhere over the rainbow"]
    assert all(q[1].startswith('not "street, city, ST 12345"') for q in quarantined)
    assert project.scalar("SELECT address FROM customers WHERE name = 'Broken'") == (
        "somewhere over the rainbow"
    )

    with pytest.raises(PreconditionFailed, match="2 quarantined row"):
        project.upgrade("contract@head")
    assert "address" in project.columns("customers")

    # Fix one value (the trigger converts it), accept the other as it is.
    project.sql("UPDATE customers SET address = '4 Bay St, Tampa, FL 33602' WHERE name = 'Broken'")
    with project.engine().begin() as connection:
        resolve_quarantine(connection, "customers", name="address_split", resolution="fixed")
    project.upgrade("contract@head")
    assert "address" not in project.columns("customers")
    assert not project.has_trigger("customers", "address_split_sync")
    assert not project.scalar("SELECT count(*) FROM pg_proc WHERE proname LIKE 'address_split%'")
    assert ("Broken", "4 Bay St", "Tampa", "FL", "33602") in _split(project)

    # Reverting the contract brings the old column back, composed from the new ones.
    project.downgrade("contract@base")
    assert project.scalar("SELECT address FROM customers WHERE name = 'green'") == (
        "5 Oak Ave, Boulder, CO 80301"
    )
    assert project.has_trigger("customers", "address_split_sync")


def test_split_expand_reverts_cleanly(make_project) -> None:
    project = make_project("split", preamble=SPLIT)
    _three_phases(project, "ADDRESS")
    project.upgrade("expand@head")
    project.downgrade("scene")
    assert project.columns("customers") == ["id", "name", "address"]
    assert not project.scalar("SELECT count(*) FROM pg_proc WHERE proname LIKE 'address_split%'")


def test_writes_from_another_connection_during_backfill_end_up_in_both_columns(
    make_project,
) -> None:
    project = make_project("split", preamble=SPLIT)
    _three_phases(project, "ADDRESS")
    project.upgrade("expand@head")
    project.sql(
        "INSERT INTO customers (name, address) SELECT 'bulk' || i, i || ' Elm St, Austin, TX 73301' "
        "FROM generate_series(1, 3000) AS i"
    )
    # A blue session keeps writing while the migrate phase runs (the backfill takes many batches).
    import threading

    stop = threading.Event()
    written: list[int] = []

    def blue_writer() -> None:
        engine = sa.create_engine(project.url, poolclass=sa.pool.NullPool)
        i = 0
        while not stop.is_set():
            i += 1
            with engine.begin() as connection:
                connection.execute(
                    sa.text("UPDATE customers SET address = :a WHERE name = :n"),
                    {"a": f"{i} Live St, Reno, NV 89501", "n": f"bulk{i % 3000 + 1}"},
                )
            written.append(i)
        engine.dispose()

    writer = threading.Thread(target=blue_writer)
    writer.start()
    try:
        project.upgrade("migrate@head")
    finally:
        stop.set()
        writer.join()
    assert written, "the writer made no writes"
    mismatched = project.scalar(
        "SELECT count(*) FROM customers WHERE name LIKE 'bulk%' AND address IS DISTINCT FROM "
        "street || ', ' || city || ', ' || state || ' ' || zip"
    )
    assert mismatched == 0


RENAME = 'MAIL = RenameColumn("people", "mail", "email", "text")\n'
RETYPE = (
    'TOTAL = ChangeColumnType("orders", "total", "total_cents", "bigint", old_type="text", '
    'using="round(value::numeric * 100)::bigint", back="(value / 100.0)::numeric(12, 2)::text")\n'
)
DOMAIN = (
    'DOMAIN = AddNotNullColumn("people", "domain", "text", fill="split_part(r.mail, \'@\', 2)")\n'
)
PEOPLE = """
op.execute("CREATE TABLE people (id bigserial PRIMARY KEY, mail text)")
op.execute("INSERT INTO people (mail) VALUES ('ada@a.org'), ('bob@b.net'), (NULL)")
op.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, total text)")
op.execute("INSERT INTO orders (total) VALUES ('10.50'), ('3'), ('n/a')")
"""


def _phased(make_project, preamble: str, name: str):
    project = make_project(name, preamble=preamble)
    project.revision("scene", "expand", PEOPLE)
    project.revision("p_expand", "expand", f"{name}.expand(op)", f"{name}.revert(op, 'expand')")
    project.revision("p_migrate", "migrate", f"{name}.migrate(op)", depends_on=["p_expand"])
    project.revision("p_contract", "contract", f"{name}.contract(op)", depends_on=["p_migrate"])
    return project


def test_rename_column(make_project) -> None:
    project = _phased(make_project, RENAME, "MAIL")
    project.upgrade("expand@head")
    project.sql("INSERT INTO people (mail) VALUES ('blue@old.io')")
    project.sql("INSERT INTO people (email) VALUES ('green@new.io')")
    assert project.rows("SELECT mail, email FROM people WHERE id > 3 ORDER BY id") == [
        ("blue@old.io", "blue@old.io"),
        ("green@new.io", "green@new.io"),
    ]
    assert project.scalar("SELECT email FROM people WHERE id = 1") is None
    project.upgrade("migrate@head")
    assert project.scalar("SELECT count(*) FROM people WHERE email IS DISTINCT FROM mail") == 0
    project.upgrade("contract@head")
    assert project.columns("people") == ["id", "email"]
    assert project.rows("SELECT email FROM people ORDER BY id") == [
        ("ada@a.org",),
        ("bob@b.net",),
        (None,),
        ("blue@old.io",),
        ("green@new.io",),
    ]


def test_change_column_type(make_project) -> None:
    project = _phased(make_project, RETYPE, "TOTAL")
    project.upgrade("expand@head")
    project.sql("INSERT INTO orders (total) VALUES ('7.25')")
    project.sql("INSERT INTO orders (total_cents) VALUES (1999)")
    assert project.rows("SELECT total, total_cents FROM orders WHERE id > 3 ORDER BY id") == [
        ("7.25", 725),
        ("19.99", 1999),
    ]
    project.upgrade("migrate@head")
    assert project.rows("SELECT total, total_cents FROM orders WHERE id <= 3 ORDER BY id") == [
        ("10.50", 1050),
        ("3", 300),
        ("n/a", None),
    ]
    reason = project.scalar("SELECT reason FROM expandcontract_quarantine")
    assert "n/a" in reason  # the cast's own error message
    with pytest.raises(PreconditionFailed, match="quarantined"):
        project.upgrade("contract@head")
    with project.engine().begin() as connection:
        resolve_quarantine(connection, "orders", resolution="accepted: order had no total")
    project.upgrade("contract@head")
    assert project.columns("orders") == ["id", "total_cents"]


def test_add_not_null_column(make_project) -> None:
    project = _phased(make_project, DOMAIN, "DOMAIN")
    project.upgrade("expand@head")
    assert not project.not_null("people", "domain")
    project.sql("INSERT INTO people (mail) VALUES ('blue@old.io')")  # blue knows no domain
    assert project.scalar("SELECT domain FROM people WHERE mail = 'blue@old.io'") == "old.io"
    project.upgrade("migrate@head")
    # The NULL mail yields a NULL domain: contract must refuse, naming the count.
    with pytest.raises(PreconditionFailed, match="1 row"):
        project.upgrade("contract@head")
    project.sql("UPDATE people SET mail = 'x@fixed.org' WHERE mail IS NULL")
    project.upgrade("contract@head")
    assert project.not_null("people", "domain")
    assert project.rows("SELECT domain FROM people ORDER BY id") == [
        ("a.org",),
        ("b.net",),
        ("fixed.org",),
        ("old.io",),
    ]


def test_every_pattern_is_tested() -> None:
    assert sorted(PATTERNS) == [
        "add_not_null_column",
        "change_column_type",
        "rename_column",
        "split_column",
    ]
