"""Print a :class:`LintResult` as text, JSON, SARIF 2.1.0 or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from expandcontract.lint.model import Finding, LintResult, Severity
from expandcontract.lint.rules import all_rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/expandcontract/expandcontract#linting-in-ci"


def _source_line(finding: Finding, files: dict[str, list[str]]) -> str | None:
    """The finding's line of source; ``files`` caches each file's lines across findings."""
    if not finding.line or not finding.file:
        return None
    if finding.file not in files:
        try:
            text = Path(finding.file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        files[finding.file] = text.splitlines()
    lines = files[finding.file]
    return lines[finding.line - 1].rstrip() if finding.line <= len(lines) else None


def format_text(result: LintResult) -> str:
    """Readable: ``file:line: RULE severity [phase revision] message``, the line, the fix."""
    out: list[str] = []
    files: dict[str, list[str]] = {}
    for f in result.findings:
        where = f"{f.file}:{f.line}" if f.line else f.file
        context = f" [{f.phase or 'unphased'} {f.revision}]" if f.revision else ""
        out.append(f"{where}: {f.rule} {f.severity} ({f.name}){context} {f.message}")
        source = _source_line(f, files)
        if source is not None:
            out.append(f"    {f.line:>4} | {source.strip()}")
        out.append(f"    fix: {f.suggestion}")
    s = result.summary()
    for module, count in s["stand_ins"].items():
        out.append(
            f"notice: {module} is not installed here; {count} revision(s) importing it were "
            "read with a stand-in for it"
        )
    if s["stood_in_arguments"]:
        names = ", ".join(s["stood_in_arguments"])
        count = max(s["stood_in_arguments"].values())
        out.append(
            f"notice: {count} revision(s) take upgrade() arguments only env.py supplies "
            f"({names}): rendered with stand-ins for them, or read statically where that failed"
        )
    legacy = f", {s['legacy_skipped']} legacy skipped" if s["legacy_skipped"] else ""
    out.append(
        f"{s['revisions']} revisions checked ({s['rendered']} rendered, {s['static_only']} "
        f"statically, {s['failed']} failed{legacy}): {s['errors']} errors, "
        f"{s['warnings']} warnings"
    )
    return "\n".join(out)


def format_json(result: LintResult) -> str:
    return json.dumps(
        {"findings": [f.as_dict() for f in result.findings], "summary": result.summary()},
        indent=2,
    )


def format_github(result: LintResult) -> str:
    """``::error file=…,line=…,title=…::message`` workflow commands, one per finding."""
    lines = []
    for f in result.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        props = [f"file={_escape_property(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.rule} {f.name}')}")
        message = f"{f.message} (fix: {f.suggestion})"
        lines.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_sarif(result: LintResult) -> str:
    """SARIF 2.1.0, as GitHub code scanning ingests it."""
    rules = list(all_rules())
    index = {rule.id: i for i, rule in enumerate(rules)}
    driver = {
        "name": "expandcontract",
        "informationUri": TOOL_URI,
        "rules": [
            {
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": " ".join(rule.why.split())},
                "help": {"text": f"Safe alternative: {rule.alternative}"},
                "defaultConfiguration": {"level": str(rule.severity)},
            }
            for rule in rules
        ],
    }
    results: list[dict[str, Any]] = []
    for f in result.findings:
        region = {"startLine": f.line} if f.line else None
        location: dict[str, Any] = {"artifactLocation": {"uri": Path(f.file).as_posix()}}
        if region:
            location["region"] = region
        item: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": str(f.severity),
            "message": {"text": f"{f.message}. Fix: {f.suggestion}"},
            "locations": [{"physicalLocation": location}],
            "properties": {"revision": f.revision, "phase": f.phase},
        }
        results.append(item)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(document, indent=2)


FORMATTERS: dict[str, Callable[[LintResult], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}
