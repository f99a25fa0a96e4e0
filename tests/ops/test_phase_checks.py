"""Operations refuse to run in the wrong phase, naming operation, phase and revision."""

from __future__ import annotations

import pytest

from expandcontract.errors import PhaseViolation

SCENE = 'op.execute("CREATE TABLE t (id bigserial PRIMARY KEY, a text, b text)")'


@pytest.mark.parametrize(
    ("phase", "call", "operation", "belongs"),
    [
        ("expand", 'op.contract_drop_column("t", "a")', "contract_drop_column", "contract"),
        (
            "expand",
            'op.migrate_validate_constraint("ck", "t")',
            "migrate_validate_constraint",
            "migrate",
        ),
        ("migrate", 'op.expand_add_column("t", "c", sa.Text())', "expand_add_column", "expand"),
        ("migrate", 'op.contract_set_not_null("t", "a")', "contract_set_not_null", "contract"),
        ("contract", 'op.expand_create_index("ix", "t", ["a"])', "expand_create_index", "expand"),
    ],
)
def test_wrong_phase_is_refused(
    project, phase: str, call: str, operation: str, belongs: str
) -> None:
    project.revision("scene", "expand", SCENE)
    rev = project.revision(
        "wrong_one", phase, call, depends_on=None if phase == "expand" else ["scene"]
    )
    with pytest.raises(PhaseViolation) as refused:
        project.upgrade("heads")
    message = str(refused.value)
    assert operation in message
    assert f"is a {belongs} operation" in message
    assert f"revision {rev} is a {phase} revision" in message
    assert refused.value.revision == rev
    # Nothing of the refused revision ran.
    assert project.columns("t") == ["id", "a", "b"]


def test_pattern_parts_are_phase_checked(make_project) -> None:
    project = make_project("p", preamble='R = RenameColumn("t", "a", "a2", "text")\n')
    project.revision("scene", "expand", SCENE)
    project.revision("too_early", "expand", "R.contract(op)")
    with pytest.raises(PhaseViolation, match="contract_finalize_rename is a contract operation"):
        project.upgrade("expand@head")


def test_plain_offline_rendering_does_not_police_phases(make_project, capsys) -> None:
    """Outside an expandcontract run there is no phase to check: the SQL is simply rendered."""
    project = make_project("plain", plain=True)
    project.revision("scene", "expand", SCENE)
    project.revision("later", "expand", 'op.contract_drop_column("t", "a")')
    project.upgrade("heads", sql=True)  # no PhaseViolation, no database needed
    assert "ALTER TABLE t DROP COLUMN IF EXISTS a;" in capsys.readouterr().out


def test_offline_rendering_prints_the_operations_sql(project, capsys) -> None:
    project.revision("scene", "expand", SCENE)
    project.revision("idx", "expand", 'op.expand_create_index("ix_t_a", "t", ["a"])')
    project.upgrade("heads", sql=True)
    out = capsys.readouterr().out
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t_a ON t (a)" in out
    # Outside the revision's transaction: the block is committed before the concurrent build.
    before = out.split("CREATE INDEX CONCURRENTLY")[0]
    assert before.rstrip().endswith("COMMIT;")
