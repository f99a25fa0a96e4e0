"""One definition of "this statement removes something" (``expandcontract.sql.removes``).

The linter (EC401), the contract guard's usage check and phase policing all read it, so for
every removal kind they agree: the linter and the guard find the same removals of what a
release uses (and both skip a column the release does not map), and policing refuses the
statement in expand on real PostgreSQL, naming what it removes, with nothing changed.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from expandcontract import api
from expandcontract.errors import PhaseViolation
from expandcontract.guard import removals
from expandcontract.lint import lint
from expandcontract.phases import Phase
from expandcontract.sql.removals import REMOVAL_KINDS
from expandcontract.usage import removed_in_use

# The release maps customers(id, address) and the view customers_v; not customers.city.
MODELS = (
    "import sqlalchemy as sa\n"
    "metadata = sa.MetaData()\n"
    "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
    "         sa.Column('address', sa.Text))\n"
    "sa.Table('customers_v', metadata, sa.Column('id', sa.Integer))\n"
)
USAGE = {"customers": ["address", "id"], "customers_v": ["id"]}

# kind -> (statement, does it remove something the release uses?)
CASES: dict[str, tuple[str, bool]] = {
    "drop_table": ("DROP TABLE customers", True),
    "rename_table": ("ALTER TABLE customers RENAME TO clients", True),
    "set_schema": ("ALTER TABLE customers SET SCHEMA elsewhere", True),
    "drop_view": ("DROP VIEW customers_v", True),
    "truncate": ("TRUNCATE customers", True),
    "drop_column": ("ALTER TABLE customers DROP COLUMN address", True),
    "drop_column unused": ("ALTER TABLE customers DROP COLUMN city", False),
    "rename_column": ("ALTER TABLE customers RENAME COLUMN address TO addr", True),
    "alter_column_type": ("ALTER TABLE customers ALTER COLUMN address TYPE integer USING 0", True),
    "drop_schema": ("DROP SCHEMA elsewhere", False),  # a schema, not a table the release maps
    "drop_type": ("DROP TYPE mood", False),
    "rename_enum_value": ("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", False),
    "drop_default": ("ALTER TABLE customers ALTER COLUMN address DROP DEFAULT", True),
    "drop_default unused": ("ALTER TABLE customers ALTER COLUMN city DROP DEFAULT", False),
    "set_not_null": ("ALTER TABLE customers ALTER COLUMN address SET NOT NULL", True),
    # Before the one definition, the linter read this as removing the whole table.
    "set_not_null unused": ("ALTER TABLE customers ALTER COLUMN city SET NOT NULL", False),
}


def test_every_removal_kind_has_a_case() -> None:
    assert {case.split()[0] for case in CASES} == set(REMOVAL_KINDS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_linter_guard_and_policing_agree(project: Any, case: str) -> None:
    statement, in_use = CASES[case]
    api.upgrade_phase(project.config(), Phase.EXPAND)
    project.sql("CREATE VIEW customers_v AS SELECT id FROM customers")
    project.sql("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    project.sql("CREATE SCHEMA elsewhere")
    project.write("x1", down="e1", up=f"op.execute({statement!r})")

    # The linter (EC401: expand removes what a listed release uses).
    module = f"models_{uuid.uuid4().hex[:8]}"
    (project.root / f"{module}.py").write_text(MODELS)
    found = lint(str(project.ini), select=["EC401"], metadata=[f"blue={module}:metadata"])
    linted = any(f.rule == "EC401" and f.revision == "x1" for f in found.findings)

    # The guard's usage check.
    script = ScriptDirectory.from_config(project.config())
    removed, unseen = removals([script.get_revision("x1")])
    assert unseen == []
    guarded = any(removed_in_use(USAGE, r.table, r.column) for r in removed)

    assert (linted, guarded) == (in_use, in_use)

    # Policing refuses it in expand, whatever the release uses, and nothing changes.
    before = project.sql(
        "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
        "column_default FROM information_schema.columns WHERE table_name LIKE 'customers%' "
        "ORDER BY 1, 2, 3"
    )
    with pytest.raises(PhaseViolation) as refused:
        api.upgrade_phase(project.config(), Phase.EXPAND)
    assert "it removes" in str(refused.value)
    after = project.sql(
        "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
        "column_default FROM information_schema.columns WHERE table_name LIKE 'customers%' "
        "ORDER BY 1, 2, 3"
    )
    assert after == before
    assert project.sql("SELECT enum_range(NULL::mood)::text")[0][0] == "{sad,happy}"
    assert project.sql("SELECT to_regnamespace('elsewhere') IS NOT NULL")[0][0]
