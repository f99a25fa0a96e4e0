"""Every rule fires where it should and stays quiet where the phase (or the context) allows it.

Each scenario under ``scenarios/`` is a real Alembic project whose ``expected.toml`` lists every
finding ``expandcontract check`` must report (revision, rule, line) and, per rule, revisions
that make the same kind of change where the rule must stay quiet.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from expandcontract.lint import all_rules, lint

SCENARIOS = Path(__file__).parent / "scenarios"


def manifest(name: str) -> dict:
    return tomllib.loads((SCENARIOS / name / "expected.toml").read_text(encoding="utf-8"))


LINTED = sorted(p.parent.name for p in SCENARIOS.glob("*/expected.toml"))


def _run(name: str):
    return lint("alembic.ini", metadata=manifest(name).get("metadata", []))


@pytest.mark.parametrize("name", LINTED)
def test_scenario_reports_exactly_the_expected_findings(
    name: str, in_scenario: Callable[[str], Path]
) -> None:
    in_scenario(name)
    result = _run(name)
    got = sorted([f.revision or "", f.rule, f.line] for f in result.findings)
    assert got == sorted(manifest(name)["findings"])


@pytest.mark.parametrize("name", LINTED)
def test_rules_stay_quiet_where_the_change_is_fine(
    name: str, in_scenario: Callable[[str], Path]
) -> None:
    folder = in_scenario(name)
    fine = manifest(name).get("fine", {})
    result = _run(name)
    for rule, revisions in fine.items():
        for entry in revisions:
            revision, _, line = entry.partition(":")
            assert (folder / "alembic" / "versions" / f"{revision}.py").is_file(), revision
            noisy = [
                f
                for f in result.findings
                if f.rule == rule and f.revision == revision and (not line or f.line == int(line))
            ]
            assert not noisy, f"{rule} must not fire in {entry}: {noisy}"


def test_every_rule_has_a_triggering_and_a_quiet_scenario() -> None:
    triggered = {rule for name in LINTED for _, rule, _ in manifest(name)["findings"]}
    quiet = {rule for name in LINTED for rule in manifest(name).get("fine", {})}
    ids = {rule.id for rule in all_rules()}
    assert ids - triggered == set(), "rules no scenario triggers"
    assert ids - quiet == set(), "rules with no scenario where they must stay quiet"


def test_findings_carry_revision_phase_file_and_line(in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    result = _run("sql_rules")
    drop = next(f for f in result.findings if f.revision == "e08_drop_column")
    assert (drop.rule, drop.name, drop.phase) == ("EC107", "drop-column", "expand")
    assert drop.file == "alembic/versions/e08_drop_column.py"
    source = Path(drop.file).read_text().splitlines()[drop.line - 1]
    assert 'op.drop_column("customers", "legacy_code")' in source
    assert drop.sql == "ALTER TABLE customers DROP COLUMN legacy_code;"
    assert "contract" in drop.suggestion


def test_revision_that_cannot_render_is_read_statically(in_scenario: Callable[[str], Path]) -> None:
    in_scenario("rendering")
    result = _run("rendering")
    assert result.static_only == 2 and result.rendered == result.revisions - 2
    # The DROP COLUMN after the get_bind() loop was found without running the revision.
    static = [f for f in result.findings if f.revision == "m01_row_loop"]
    assert {f.rule for f in static} == {"EC002", "EC206", "EC107"}


def test_suppression_comment_is_case_insensitive(scenario_copy: Callable[[str], Path]) -> None:
    revision = scenario_copy("suppressions") / "alembic" / "versions" / "e02_file_level.py"
    source = revision.read_text()
    revision.write_text(
        source.replace("# expandcontract: ignore-file", "# ExpandContract: IGNORE-FILE")
    )
    findings = lint("alembic.ini").findings
    assert [f.rule for f in findings if f.revision == "e02_file_level"] == []
