"""Rule selection and severities from pyproject.toml and the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def _rules(result) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in json.loads(result.output)["findings"]}


def test_pyproject_ignore_and_severity(check, scenario_copy: Callable[[str], Path]) -> None:
    folder = scenario_copy("sql_rules")
    (folder / "pyproject.toml").write_text(
        "[tool.expandcontract.lint]\n"
        'ignore = ["EC1", "opaque-sql"]\n'
        'severity = { addition-in-contract = "error", EC204 = "error" }\n'
    )
    rules = _rules(check("--format", "json"))
    assert not [r for r in rules if r.startswith("EC1")]
    assert "EC207" not in rules
    assert rules["EC203"] == "error" and rules["EC204"] == "error"
    assert rules["EC304"] == "warning"


def test_keys_directly_under_tool_expandcontract(check, scenario_copy) -> None:
    folder = scenario_copy("sql_rules")
    (folder / "pyproject.toml").write_text(
        '[tool.expandcontract]\nsoak = "24h"\nselect = ["EC2"]\n'
    )
    rules = _rules(check("--format", "json"))
    assert rules and all(r.startswith("EC2") for r in rules)


def test_command_line_select_replaces_and_ignore_adds(check, scenario_copy) -> None:
    folder = scenario_copy("sql_rules")
    (folder / "pyproject.toml").write_text('[tool.expandcontract.lint]\nselect = ["EC2"]\n')
    assert set(_rules(check("--format", "json", "--select", "EC107,EC110"))) == {"EC107", "EC110"}
    assert set(_rules(check("--format", "json", "--ignore", "EC202", "--ignore", "EC204"))) == {
        "EC201",
        "EC203",
        "EC205",
        "EC207",
    }


def test_bad_configuration_is_exit_2(check, scenario_copy) -> None:
    folder = scenario_copy("sql_rules")
    (folder / "pyproject.toml").write_text(
        '[tool.expandcontract.lint]\nseverity = { EC107 = "fatal" }\n'
    )
    result = check()
    assert result.exit_code == 2
    assert "severity of 'EC107' must be 'error' or 'warning'" in result.output
    (folder / "pyproject.toml").write_text('[tool.expandcontract.lint]\nignore = ["EC9"]\n')
    assert "unknown rule 'EC9'" in check().output
    (folder / "pyproject.toml").write_text("[tool.expandcontract\n")
    result = check()
    assert result.exit_code == 2 and "pyproject.toml" in result.output


def test_empty_select_is_a_usage_error(check, in_scenario: Callable[[str], Path]) -> None:
    """`--select "$RULES"` with an empty variable must not silently lint nothing."""
    in_scenario("sql_rules")
    result = check("--select", "")
    assert result.exit_code == 2
    assert "--select: select names no rule" in result.output
