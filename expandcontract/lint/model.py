"""The linter's data: what it learned about each revision, and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from expandcontract.lint.history import RevisionFile
from expandcontract.phases import Phase
from expandcontract.runtime.state import Step
from expandcontract.sql import Change


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass
class Statement:
    """One SQL statement a revision emits (or, when it cannot render, that we read statically)."""

    sql: str
    line: int | None
    changes: list[Change]
    in_transaction: bool = True
    raw: bool = False  # came from op.execute()/bind.execute() text, not from a typed operation
    op_name: str | None = None  # the operation that emitted it (``add_column``, ``backfill``, ...)
    parse_error: str | None = None
    # alter_column's (old type, new type) as PostgreSQL spells them, when Alembic knows them
    types: tuple[str | None, str | None] | None = None


@dataclass
class Suppression:
    """``# expandcontract: ignore[RULE, ...] reason`` (or ``ignore-file[...]``) in a revision."""

    rules: tuple[str, ...]
    reason: str
    line: int
    first_line: int  # the statement range it covers (the whole file for ignore-file)
    last_line: int
    file_level: bool = False
    used: set[str] = field(default_factory=set)


@dataclass
class StaticFacts:
    """What reading the revision's Python source tells us, without running it."""

    imports: list[tuple[str, int]] = field(default_factory=list)  # (dotted module, line)
    get_bind_lines: list[int] = field(default_factory=list)
    row_loops: list[int] = field(default_factory=list)  # lines of `for` loops executing SQL per row
    has_downgrade: bool = False
    downgrade_is_noop: bool = True
    downgrade_line: int | None = None
    statement_spans: list[tuple[int, int]] = field(default_factory=list)
    line_count: int = 0
    assignments: dict[str, int] = field(default_factory=dict)  # top-level name -> line
    exemptions: dict[str, str] = field(default_factory=dict)  # read from source, when literal


@dataclass
class RevisionAnalysis:
    """Everything the rules may ask about one revision."""

    node: RevisionFile
    phase: Phase | None
    path: Path
    static: StaticFacts
    module: ModuleType | None = None
    legacy: bool = False
    upgrade: list[Statement] = field(default_factory=list)
    downgrade: list[Statement] = field(default_factory=list)
    rendered: bool = True
    render_error: str | None = None
    render_error_line: int | None = None
    phase_error: str | None = None
    # why the revision was only read statically, for the EC002 notice (None when rendered)
    static_reason: str | None = None
    missing_modules: list[str] = field(default_factory=list)  # replaced by stand-ins
    stood_in_arguments: list[str] = field(default_factory=list)  # upgrade() args env.py passes
    suppressions: list[Suppression] = field(default_factory=list)

    @property
    def revision(self) -> str:
        return self.node.revision

    @property
    def exemptions(self) -> dict[str, str]:
        """The revision's declared exemptions, read as runtime policing reads them."""
        if self.module is not None:
            return Step(self.revision, self.phase, self.module).exemptions
        return self.static.exemptions

    def changes(self) -> list[tuple[Statement, Change]]:
        """Every change of the upgrade, with the statement that makes it."""
        return [(stmt, change) for stmt in self.upgrade for change in stmt.changes]

    @cached_property
    def created_tables(self) -> set[str]:
        """Tables this revision creates itself: locking rules do not apply to empty new tables."""
        return {
            table_identity(change.table)
            for _, change in self.changes()
            if change.kind == "create_table" and change.table
        }

    def is_new_table(self, table: str | None) -> bool:
        return table is not None and table_identity(table) in self.created_tables


def table_identity(name: str, default_schema: str = "public") -> str:
    """``schema.table`` with the default schema filled in: ``users`` is ``public.users``,
    ``audit.users`` is another table. Unquoted names fold to lower case, as PostgreSQL does."""
    parts = [_fold(part) for part in _split_qualified(name)]
    if len(parts) == 1:
        parts.insert(0, default_schema)
    return ".".join(parts[-2:])


def _split_qualified(name: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in name.strip():
        if char == '"':
            quoted = not quoted
            current += char
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _fold(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] == '"':
        return part[1:-1].replace('""', '"')
    return part.lower()


@dataclass
class Finding:
    """One problem, at one place."""

    rule: str
    name: str
    severity: Severity
    message: str
    revision: str | None
    phase: str | None
    file: str
    line: int | None
    suggestion: str = ""
    sql: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": str(self.severity),
            "message": self.message,
            "revision": self.revision,
            "phase": self.phase,
            "file": self.file,
            "line": self.line,
            "suggestion": self.suggestion,
            "sql": self.sql,
        }


@dataclass
class LintResult:
    """The findings of one run, sorted by file and line, and what was looked at."""

    findings: list[Finding]
    revisions: int
    rendered: int
    static_only: int
    script_location: str
    failed: int = 0  # files that are not valid Python
    legacy_skipped: int = 0  # legacy revisions not linted (no --include-legacy)
    baseline: tuple[str, ...] | None = None
    stand_ins: dict[str, int] = field(default_factory=dict)  # missing module -> revisions
    stood_in_arguments: dict[str, int] = field(default_factory=dict)  # upgrade() arg -> revisions

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def summary(self) -> dict[str, Any]:
        by_rule: dict[str, int] = {}
        for finding in self.findings:
            by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
        return {
            "revisions": self.revisions,
            "rendered": self.rendered,
            "static_only": self.static_only,
            "failed": self.failed,
            "legacy_skipped": self.legacy_skipped,
            "baseline": list(self.baseline) if self.baseline is not None else None,
            "stand_ins": self.stand_ins,
            "stood_in_arguments": self.stood_in_arguments,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": len(self.findings),
            "by_rule": dict(sorted(by_rule.items())),
            "script_location": self.script_location,
        }
