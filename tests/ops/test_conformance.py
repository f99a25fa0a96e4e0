"""Every registered operation through apply -> reverse -> apply, on real Alembic runs.

One case per entry of the operation REGISTRY (a test fails when an operation ships without one):
a base expand revision sets the scene, a revision of the operation's phase calls
``op.<name>(...)`` in ``upgrade()`` and ``op.invoke(<operation>.reverse())`` in ``downgrade()``;
the schema and the data are checked after each step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from expandcontract.ops import REGISTRY

BASE = """
op.execute('''
    CREATE TABLE customers (
        id bigserial PRIMARY KEY, name text NOT NULL, email text, phone text, phone_number text
    )''')
op.execute('''
    INSERT INTO customers (name, email, phone) VALUES
        ('Ada', 'ada@example.com', '555-0101'),
        ('Grace', 'grace@example.com', '555-0102'),
        ('Linus', 'linus@example.com', NULL)''')
op.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint, total int)")
op.execute("INSERT INTO orders (customer_id, total) VALUES (1, 10), (2, 20)")
"""

PREAMBLE = """
PHONE_SYNC = InstallSyncTrigger(
    "customers_phone_sync",
    "customers",
    old_columns=["phone"],
    new_columns=["phone_number"],
    forward=Direction({"phone_number": "NEW.phone"}),
    backward=Direction({"phone": "NEW.phone_number"}),
)
"""


@dataclass
class Case:
    args: str
    applied: Callable[..., None]
    reversed: Callable[..., None]
    setup: str = ""


def _phones(p) -> list[tuple]:
    return p.rows("SELECT phone, phone_number FROM customers ORDER BY id")


def _add_column_applied(p) -> None:
    assert "active" in p.columns("customers")
    assert p.not_null("customers", "active")
    assert p.rows("SELECT DISTINCT active FROM customers") == [(True,)]
    p.sql("INSERT INTO customers (name) VALUES ('old release')")  # the old insert still works


def _trigger_applied(p) -> None:
    assert p.has_trigger("customers", "customers_phone_sync")
    p.sql("INSERT INTO customers (name, phone) VALUES ('blue', '555-0199')")
    p.sql("INSERT INTO customers (name, phone_number) VALUES ('green', '555-0200')")
    assert p.rows("SELECT phone, phone_number FROM customers WHERE name IN ('blue', 'green')") == [
        ("555-0199", "555-0199"),
        ("555-0200", "555-0200"),
    ]
    p.sql("DELETE FROM customers WHERE name IN ('blue', 'green')")


def _trigger_reversed(p) -> None:
    assert not p.has_trigger("customers", "customers_phone_sync")
    assert not p.scalar("SELECT count(*) FROM pg_proc WHERE proname = 'customers_phone_sync_fn'")
    p.sql("INSERT INTO customers (name, phone) VALUES ('blue', '555-0199')")
    assert p.scalar("SELECT phone_number FROM customers WHERE name = 'blue'") is None
    p.sql("DELETE FROM customers WHERE name = 'blue'")


def _index_valid(p, name: str) -> bool:
    return bool(
        p.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:n)", n=name)
    )


def _validated(p, name: str) -> bool:
    return bool(p.scalar("SELECT convalidated FROM pg_constraint WHERE conname = :n", n=name))


CASES: dict[str, Case] = {
    "expand_add_column": Case(
        '"customers", "active", sa.Boolean(), default=True, nullable=False',
        _add_column_applied,
        lambda p: (
            p.columns("customers") == ["id", "name", "email", "phone", "phone_number"]
            or pytest.fail(p.columns("customers"))
        ),
    ),
    "expand_create_table": Case(
        '"audit", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("note", sa.Text)',
        lambda p: p.columns("audit") == ["id", "note"] or pytest.fail(p.columns("audit")),
        lambda p: not p.exists("audit") or pytest.fail("audit still exists"),
    ),
    "expand_create_index": Case(
        '"ix_customers_email", "customers", ["lower(email)"]',
        lambda p: _index_valid(p, "ix_customers_email") or pytest.fail("no valid index"),
        lambda p: not p.exists("ix_customers_email") or pytest.fail("index still exists"),
    ),
    "expand_add_check": Case(
        '"ck_customers_name", "customers", "length(name) > 0"',
        lambda p: (
            (p.has_constraint("customers", "ck_customers_name"), _validated(p, "ck_customers_name"))
            == (True, False)
            or pytest.fail("expected a NOT VALID check")
        ),
        lambda p: not p.has_constraint("customers", "ck_customers_name") or pytest.fail("left"),
    ),
    "expand_add_foreign_key": Case(
        '"fk_orders_customer", "orders", ["customer_id"], "customers", ["id"]',
        lambda p: (
            (p.has_constraint("orders", "fk_orders_customer"), _validated(p, "fk_orders_customer"))
            == (True, False)
            or pytest.fail("expected a NOT VALID foreign key")
        ),
        lambda p: not p.has_constraint("orders", "fk_orders_customer") or pytest.fail("left"),
    ),
    "expand_add_unique": Case(
        '"uq_customers_email", "customers", ["email"]',
        lambda p: (
            p.scalar("SELECT contype FROM pg_constraint WHERE conname = 'uq_customers_email'")
            == "u"
            or pytest.fail("no unique constraint")
        ),
        lambda p: not p.exists("uq_customers_email") or pytest.fail("index left behind"),
    ),
    "expand_sync_trigger": Case(
        '"customers_phone_sync", "customers", old_columns=["phone"], new_columns=["phone_number"], '
        'forward=Direction({"phone_number": "NEW.phone"}), '
        'backward=Direction({"phone": "NEW.phone_number"})',
        _trigger_applied,
        _trigger_reversed,
    ),
    "expand_drop_not_null": Case(
        '"customers", "name"',
        lambda p: not p.not_null("customers", "name") or pytest.fail("still NOT NULL"),
        lambda p: p.not_null("customers", "name") or pytest.fail("NOT NULL not restored"),
    ),
    "migrate_backfill": Case(
        '"fill_phone_number", "customers", {"phone_number": "t.phone"}, '
        'pending="t.phone_number IS DISTINCT FROM t.phone"',
        lambda p: (
            _phones(p) == [("555-0101",) * 2, ("555-0102",) * 2, (None, None)]
            or pytest.fail(str(_phones(p)))
        ),
        # Reversing a backfill undoes nothing: the data stays.
        lambda p: (
            _phones(p) == [("555-0101",) * 2, ("555-0102",) * 2, (None, None)]
            or pytest.fail(str(_phones(p)))
        ),
    ),
    "migrate_validate_constraint": Case(
        '"ck_name", "customers"',
        lambda p: _validated(p, "ck_name") or pytest.fail("not validated"),
        lambda p: _validated(p, "ck_name") or pytest.fail("validation lost"),
        setup="op.execute(\"ALTER TABLE customers ADD CONSTRAINT ck_name CHECK (name <> '') NOT VALID\")",
    ),
    "contract_drop_column": Case(
        '"customers", "phone", type_=sa.Text()',
        lambda p: "phone" not in p.columns("customers") or pytest.fail("phone still there"),
        lambda p: (
            p.rows("SELECT DISTINCT phone FROM customers") == [(None,)]
            or pytest.fail("phone not back (empty)")
        ),
    ),
    "contract_drop_table": Case(
        '"legacy", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text)',
        lambda p: not p.exists("legacy") or pytest.fail("legacy still exists"),
        lambda p: p.columns("legacy") == ["id", "v"] or pytest.fail("legacy not recreated"),
        setup='op.execute("CREATE TABLE legacy (id int PRIMARY KEY, v text)")',
    ),
    "contract_drop_index": Case(
        '"ix_customers_name", "customers", columns=["name"]',
        lambda p: not p.exists("ix_customers_name") or pytest.fail("index still exists"),
        lambda p: _index_valid(p, "ix_customers_name") or pytest.fail("index not rebuilt"),
        setup='op.execute("CREATE INDEX ix_customers_name ON customers (name)")',
    ),
    "contract_drop_constraint": Case(
        '"ck_name", "customers", restore=AddCheck("ck_name", "customers", "name <> \'\'")',
        lambda p: not p.has_constraint("customers", "ck_name") or pytest.fail("still there"),
        lambda p: p.has_constraint("customers", "ck_name") or pytest.fail("not restored"),
        setup="op.execute(\"ALTER TABLE customers ADD CONSTRAINT ck_name CHECK (name <> '')\")",
    ),
    "contract_drop_sync_trigger": Case(
        '"customers_phone_sync", "customers", definition=PHONE_SYNC',
        _trigger_reversed,
        _trigger_applied,
        setup="op.invoke(PHONE_SYNC)",
    ),
    "contract_set_not_null": Case(
        '"customers", "email"',
        lambda p: (
            (
                p.not_null("customers", "email"),
                p.has_constraint("customers", "customers_email_not_null"),
            )
            == (True, False)
            or pytest.fail("expected NOT NULL and no helper check left")
        ),
        lambda p: not p.not_null("customers", "email") or pytest.fail("still NOT NULL"),
    ),
    "contract_finalize_rename": Case(
        '"customers", "phone", "phone_number", trigger=PHONE_SYNC, old_type="text"',
        lambda p: (
            ("phone" not in p.columns("customers"))
            and not p.has_trigger("customers", "customers_phone_sync")
            or pytest.fail("old column or trigger left")
        ),
        lambda p: (
            (_phones(p), p.has_trigger("customers", "customers_phone_sync"))
            == ([("555-0101",) * 2, ("555-0102",) * 2, (None, None)], True)
            or pytest.fail(str(_phones(p)))
        ),
        setup="op.invoke(PHONE_SYNC)\nop.execute('UPDATE customers SET phone_number = phone')",
    ),
}


def test_every_registered_operation_has_a_case() -> None:
    assert sorted(CASES) == sorted(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_apply_reverse_apply(name: str, make_project) -> None:
    case = CASES[name]
    operation = REGISTRY[name]
    phase = str(operation.phase)
    project = make_project(name, preamble=PREAMBLE)
    project.revision("scene", "expand", BASE + "\n" + case.setup)
    project.revision(
        "under_test",
        phase,
        f"op.{name}({case.args})",
        f"op.invoke(REGISTRY[{name!r}]({case.args}).reverse())",
        depends_on=None if phase == "expand" else ["scene"],
    )
    back_to = "scene" if phase == "expand" else f"{phase}@base"

    project.upgrade("heads")
    case.applied(project)
    project.downgrade(back_to)
    case.reversed(project)
    project.upgrade("heads")
    case.applied(project)
