"""`check` on a history shaped like real projects': the run never aborts, stdout stays a document.

The ``real_history`` scenario (see its ``expected.toml``) holds revisions that import a package
nobody installed, print, ask for offline mode, take arguments in ``upgrade()``, branch on the
dialect, and a baseline behind which a legacy revision drops a column.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from expandcontract.lint import lint

SCENARIO = Path(__file__).parent / "scenarios" / "real_history"


def _check(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from expandcontract.cli import main; main()", "check", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_stdout_holds_exactly_the_document_and_revision_output_goes_to_stderr() -> None:
    documents = {}
    for output_format in ("json", "sarif"):
        run = _check(SCENARIO, "--format", output_format)
        assert run.returncode == 1, run.stderr
        documents[output_format] = json.loads(run.stdout)  # nothing printed is in the way
        assert "u01: loading" in run.stderr and "u01: upgrading" in run.stderr
    summary = documents["json"]["summary"]
    assert {k: summary[k] for k in ("revisions", "rendered", "static_only", "failed")} == {
        "revisions": 9,
        "rendered": 6,
        "static_only": 3,
        "failed": 0,
    }
    assert (summary["legacy_skipped"], summary["baseline"]) == (3, ["l03_legacy_drop"])
    assert summary["stand_ins"] == {"acme": 1}
    assert summary["stood_in_arguments"] == {"tables": 2, "tester": 2}


def test_text_summary_names_the_missing_package(check, in_scenario) -> None:
    in_scenario("real_history")
    result = check()
    assert "notice: acme is not installed here; 1 revision(s) importing it" in result.output
    assert "9 revisions checked (6 rendered, 3 statically, 0 failed, 3 legacy skipped)" in (
        result.output
    )


def test_stand_ins_do_not_outlive_the_run(in_scenario) -> None:
    in_scenario("real_history")
    lint("alembic.ini")
    assert not [name for name in sys.modules if name == "acme" or name.startswith("acme.")]


def test_legacy_revisions_are_linted_on_request(in_scenario) -> None:
    in_scenario("real_history")
    result = lint("alembic.ini", include_legacy=True)
    legacy = [f for f in result.findings if f.revision == "l03_legacy_drop"]
    assert [(f.rule, f.line, f.phase) for f in legacy] == [("EC107", 11, None)]
    assert "legacy revision" in legacy[0].message
    assert result.legacy_skipped == 0 and result.revisions == 12
    assert not [f for f in result.findings if f.rule == "EC303" and f.revision.startswith("l0")]


def test_a_project_that_never_adopted_gets_one_clear_finding(
    check, scenario_copy: Callable[[str], Path]
) -> None:
    folder = scenario_copy("real_history")
    (folder / "alembic" / "expandcontract.toml").unlink()
    versions = folder / "alembic" / "versions"
    for revision in versions.glob("[em]0*.py"):
        revision.unlink()
    result = check("--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    [finding] = document["findings"]
    assert finding["rule"] == "EC303" and "expandcontract adopt" in finding["message"]
    assert document["summary"]["legacy_skipped"] == 4  # l01-l03 and u01: all legacy
    result = check("--format", "json", "--include-legacy", "--select", "EC107")
    drops = [f["revision"] for f in json.loads(result.stdout)["findings"]]
    assert sorted(drops) == ["l03_legacy_drop", "u01_unphased"]


def test_file_and_prefix_suppressions_work_like_select(
    check, scenario_copy: Callable[[str], Path]
) -> None:
    folder = scenario_copy("real_history")
    versions = folder / "alembic" / "versions"
    unphased = versions / "u01_unphased.py"
    unphased.write_text(
        "# expandcontract: ignore-file[ALL] ran in production before the phases existed\n"
        + unphased.read_text()
    )
    schemas = versions / "e04_schemas.py"
    schemas.write_text(
        schemas.read_text().replace(
            "nullable=False))",
            "nullable=False))  # expandcontract: ignore[EC1] table is empty in every deploy",
        )
    )
    document = json.loads(check("--format", "json").stdout)
    found = {(f["revision"], f["rule"]) for f in document["findings"]}
    assert not {rule for revision, rule in found if revision == "u01_unphased"}
    assert ("e04_schemas", "EC101") not in found
    assert ("e04_schemas", "EC110") in found  # another line: still reported
    assert not {rule for _, rule in found if rule in ("EC004", "EC005")}


def test_a_finding_shows_the_statement_it_flags(in_scenario) -> None:
    """One op.execute() with several statements: the finding's sql is the flagged one."""
    in_scenario("real_history")
    [finding] = [f for f in lint("alembic.ini").findings if f.rule == "EC114"]
    assert finding.sql == "ALTER TABLE users ADD CONSTRAINT ck_tier CHECK (tier <> '')"


def test_a_drop_after_the_baseline_without_a_phase_says_how_to_phase_it(in_scenario) -> None:
    in_scenario("real_history")
    [drop] = [f for f in lint("alembic.ini").findings if f.rule == "EC107"]
    assert (drop.revision, drop.phase, drop.severity) == ("u01_unphased", None, "error")
    assert "either release is live" in drop.message
    assert "expandcontract revision --phase contract" in drop.message
