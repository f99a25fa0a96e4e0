"""Bad input is reported with file and line, exit status 2, and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def _assert_clean_error(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output


def test_syntax_error_in_a_revision_is_a_failure_finding(
    check, in_scenario: Callable[[str], Path]
) -> None:
    """Only a file that is not valid Python fails; the rest of the history is still checked."""
    in_scenario("bad_syntax")
    result = check("--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    [failure] = document["findings"]
    assert (failure["rule"], failure["file"], failure["line"]) == (
        "EC006",
        "alembic/versions/e02_broken.py",
        12,
    )
    assert "'(' was never closed" in failure["message"]
    assert document["summary"]["revisions"] == 1  # e01_ok, rendered
    assert (document["summary"]["rendered"], document["summary"]["failed"]) == (1, 1)


def test_revision_raising_on_import_is_read_statically(
    check, in_scenario: Callable[[str], Path]
) -> None:
    in_scenario("bad_import")
    result = check("--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    [notice] = [f for f in document["findings"] if f["rule"] == "EC002"]
    assert (notice["severity"], notice["line"]) == ("warning", 9)  # the line that raised
    assert "RuntimeError: configuration missing" in notice["message"]
    assert document["summary"]["static_only"] == 1


def test_broken_down_revision_chain(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("broken_chain")
    _assert_clean_error(
        check("--format", "json"),
        "alembic/versions/e02_orphan.py:6: broken revision chain: revision 'e01_gone'",
    )


def test_missing_config_file(check, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _assert_clean_error(check(), "alembic.ini: no Alembic config file")
    _assert_clean_error(check("-c", "deploy/alembic.ini"), "deploy/alembic.ini")


def test_config_without_script_location(check, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("alembic.ini").write_text("[alembic]\n")
    _assert_clean_error(check(), "alembic.ini:")


def test_revision_raising_while_rendering_is_a_finding(
    check, in_scenario: Callable[[str], Path]
) -> None:
    in_scenario("rendering")
    result = check()
    assert result.exit_code == 1
    assert (
        "alembic/versions/e02_raises.py:13: EC001 error (render-failed) [expand e02_raises] "
        "upgrade() raised while rendering: AttributeError" in result.output
    )
    assert "Traceback" not in result.output


def test_unimportable_metadata_is_a_usage_error(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("releases")
    _assert_clean_error(check("--metadata", "blue=shop.nowhere:metadata"), "shop.nowhere")


def test_metadata_without_release_name_is_named_by_its_target(
    check, in_scenario: Callable[[str], Path]
) -> None:
    in_scenario("releases")
    result = check("--select", "EC401", "--metadata", "=shop.models_blue:metadata")
    assert result.exit_code == 1
    assert "which release shop.models_blue:metadata still uses" in result.output


def test_revision_on_several_phase_branches_is_a_finding(
    check, scenario_copy: Callable[[str], Path]
) -> None:
    folder = scenario_copy("typed_ops")
    (folder / "alembic" / "versions" / "x01_merge.py").write_text(
        "revision = 'x01_merge'\n"
        "down_revision = ('e01_expand', 'm01_backfill')\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )
    result = check("--select", "EC303")
    assert result.exit_code == 1, result.output
    assert "x01_merge is on several phase branches (expand, migrate)" in result.output


def test_revision_that_is_not_utf8_is_still_linted(
    check, scenario_copy: Callable[[str], Path]
) -> None:
    """Python imports a revision with a Latin-1 comment; the linter must read it too."""
    folder = scenario_copy("typed_ops")
    with (folder / "alembic" / "versions" / "e01_expand.py").open("ab") as revision:
        revision.write(b"# caf\xe9\n")
    result = check()
    assert result.exit_code == 0, result.output
    assert "3 revisions checked" in result.output


def test_pyproject_that_is_not_utf8_is_a_usage_error(
    check, scenario_copy: Callable[[str], Path]
) -> None:
    folder = scenario_copy("typed_ops")
    (folder / "pyproject.toml").write_bytes(b"[tool.expandcontract]\n# caf\xe9\n")
    _assert_clean_error(check(), "pyproject.toml")
