"""Runtime policing judges a type change by what PostgreSQL does with it.

A widening PostgreSQL makes without touching the table (``text`` -> ``varchar``,
``varchar(n)`` -> ``varchar(m > n)``) runs in an expand revision; a change that rewrites the
table (``text`` -> ``varchar(n)``) is refused. The classification is
:mod:`expandcontract.sql.type_changes`, shared with the linter and autogenerate.
"""

from __future__ import annotations

import pytest

from expandcontract.errors import PhaseViolation

SCENE = 'op.execute("CREATE TABLE t (id serial PRIMARY KEY, b text, v varchar(10))")'
TYPE_OF = (
    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = 't'::regclass AND attname = '{}'"
)


@pytest.mark.parametrize(
    ("statement", "column", "after"),
    [
        ("ALTER TABLE t ALTER COLUMN b TYPE varchar", "b", "character varying"),
        ("ALTER TABLE t ALTER COLUMN v TYPE varchar(40)", "v", "character varying(40)"),
        ("ALTER TABLE public.t ALTER COLUMN v TYPE text", "v", "text"),
    ],
)
def test_a_widening_runs_in_expand(project, statement: str, column: str, after: str) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision("widen", "expand", f"op.execute({statement!r})")
    project.upgrade("heads")
    assert project.scalar(TYPE_OF.format(column)) == after


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE t ALTER COLUMN b TYPE varchar(5)",
        "ALTER TABLE t ALTER COLUMN v TYPE varchar(5)",
        "ALTER TABLE t ALTER COLUMN id TYPE bigint",
        "ALTER TABLE t ALTER COLUMN v TYPE text USING upper(v)",
    ],
)
def test_a_rewriting_change_is_refused(project, statement: str) -> None:
    project.revision("scene", "expand", SCENE)
    project.upgrade("heads")
    project.revision("narrow", "expand", f"op.execute({statement!r})")
    with pytest.raises(PhaseViolation, match="ALTER COLUMN TYPE"):
        project.upgrade("heads")
    assert project.scalar(TYPE_OF.format("v")) == "character varying(10)"
