"""The output contracts of ``expandcontract check``: JSON, SARIF 2.1.0, GitHub annotations, text,
and the exit status (0 no errors, 1 errors, 2 usage or configuration error)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema

from expandcontract.lint.formats import format_github
from expandcontract.lint.model import Finding, LintResult, Severity

SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0-subset.schema.json").read_text())
FIELDS = {"rule", "severity", "message", "revision", "phase", "file", "line"}


def test_json_has_findings_and_summary(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    result = check("--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert set(document) == {"findings", "summary"}
    findings = document["findings"]
    assert findings and all(set(f) >= FIELDS for f in findings)
    assert {f["severity"] for f in findings} == {"error", "warning"}
    assert all(re.fullmatch(r"EC\d{3}", f["rule"]) for f in findings)
    assert all(f["phase"] in ("expand", "migrate", "contract") for f in findings)
    assert all(Path(f["file"]).is_file() and f["line"] >= 1 for f in findings)
    summary = document["summary"]
    assert summary["errors"] == sum(f["severity"] == "error" for f in findings)
    assert summary["warnings"] == sum(f["severity"] == "warning" for f in findings)
    assert summary["revisions"] == len(list(Path("alembic/versions").glob("*.py")))


def test_sarif_is_valid_2_1_0(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    sarif = json.loads(check("--format", "sarif").output)
    jsonschema.validate(sarif, SCHEMA)
    findings = json.loads(check("--format", "json").output)["findings"]
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["rule"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == finding["file"]
        assert location["region"]["startLine"] == finding["line"]
        assert result["level"] == finding["severity"]


def test_sarif_schema_rejects_what_code_scanning_rejects() -> None:
    """The vendored subset schema is strict enough to catch a malformed document."""
    bad = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"message": {"text": "m"}, "level": "fatal"}],
            }
        ],
    }
    try:
        jsonschema.validate(bad, SCHEMA)
    except jsonschema.ValidationError as err:
        assert "fatal" in str(err)
    else:
        raise AssertionError("level 'fatal' must be rejected")


ANNOTATION = re.compile(
    r"::(?P<level>error|warning) file=(?P<file>[^,:]+),line=(?P<line>\d+),"
    r"title=(?P<rule>EC\d{3}) [a-z-]+::(?P<message>.+)"
)


def test_github_annotations(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    lines = check("--format", "github").output.splitlines()
    findings = json.loads(check("--format", "json").output)["findings"]
    assert len(lines) == len(findings)
    for line, finding in zip(lines, findings, strict=True):
        match = ANNOTATION.fullmatch(line)
        assert match, line
        assert match["level"] == finding["severity"]
        assert (match["file"], int(match["line"]), match["rule"]) == (
            finding["file"],
            finding["line"],
            finding["rule"],
        )


def test_github_annotation_escapes_newlines_and_separators() -> None:
    finding = Finding(
        "EC003",
        "unparseable-sql",
        Severity.ERROR,
        "100% broken\nsecond line",
        "r1",
        "expand",
        "a,b:c.py",
        3,
        "fix it",
    )
    text = format_github(LintResult([finding], 1, 1, 0, "alembic"))
    assert text == (
        "::error file=a%2Cb%3Ac.py,line=3,title=EC003 unparseable-sql::"
        "100%25 broken%0Asecond line (fix: fix it)"
    )


def test_text_shows_location_source_line_and_fix(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    output = check().output
    assert (
        "alembic/versions/e08_drop_column.py:12: EC107 error (drop-column) "
        "[expand e08_drop_column]" in output
    )
    assert '  12 | op.drop_column("customers", "legacy_code")' in output
    assert "fix: move the drop to a contract revision" in output
    assert re.search(
        r"31 revisions checked \(31 rendered, 0 statically, 0 failed\): \d+ errors, \d+ warnings",
        output,
    )


def test_exit_status(check, in_scenario: Callable[[str], Path]) -> None:
    in_scenario("sql_rules")
    assert check("--select", "EC107").exit_code == 1  # error findings
    assert check("--select", "EC204,EC207").exit_code == 0  # warnings only
    clean = check("--select", "EC301")
    assert clean.exit_code == 0 and "0 errors, 0 warnings" in clean.output  # nothing found
    assert check("--select", "EC999").exit_code == 2  # unknown rule: usage error
    assert check("--format", "xml").exit_code == 2


def test_list_rules(check) -> None:
    result = check("--list-rules")
    assert result.exit_code == 0
    assert re.search(r"^EC107\s+drop-column\s+error\s+", result.output, re.M)


def test_check_has_help(check) -> None:
    result = check("--help")
    assert result.exit_code == 0
    assert "Exit status: 0 no error findings, 1 error findings, 2 usage" in result.output
    for option in ("--format", "--select", "--ignore", "--metadata", "-c, --config"):
        assert option in result.output
