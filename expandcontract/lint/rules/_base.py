"""What a rule is, and the context every rule reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from expandcontract.lint.history import History
from expandcontract.lint.model import RevisionAnalysis, Severity, Statement
from expandcontract.phases import Phase
from expandcontract.sql import Change
from expandcontract.usage import Usage

EARLY = frozenset({Phase.EXPAND, Phase.MIGRATE})  # phases in which the old release still runs
# ... plus unphased revisions (after the baseline, or legacy ones with --include-legacy):
# nothing stops them from running while either release is live.
LIVE = EARLY | {None}
ALL_PHASES = frozenset({Phase.EXPAND, Phase.MIGRATE, Phase.CONTRACT, None})


@dataclass(frozen=True)
class Hit:
    """A rule's raw result; the engine adds the rule's id, severity and suggestion."""

    message: str
    analysis: RevisionAnalysis | None = None
    line: int | None = None
    sql: str | None = None
    file: Path | None = None  # for findings outside any revision (env.py)


@dataclass
class LintContext:
    """The whole script directory, analysed, plus the releases given with ``--metadata``."""

    history: History
    revisions: list[RevisionAnalysis]  # oldest first
    env_path: Path
    env_has_hook: bool
    project_root: Path
    releases: list[tuple[str, Usage]] = field(default_factory=list)
    adopted: bool = True  # a baseline is recorded, or the history uses phase branches

    def __post_init__(self) -> None:
        self.by_id = {analysis.revision: analysis for analysis in self.revisions}
        self._dependencies: dict[str, list[RevisionAnalysis]] = {}

    def dependencies(self, analysis: RevisionAnalysis) -> list[RevisionAnalysis]:
        """Every revision ``analysis`` needs (down revisions and depends_on), transitively."""
        if analysis.revision not in self._dependencies:
            self._dependencies[analysis.revision] = [
                self.by_id[dep.revision]
                for dep in self.history.closure(analysis.revision)
                if dep.revision in self.by_id
            ]
        return self._dependencies[analysis.revision]


@dataclass(frozen=True)
class Rule:
    """One check with a stable id (``EC`` + three digits) and a kebab-case name."""

    id: str
    name: str
    severity: Severity
    summary: str
    why: str
    alternative: str
    check: Callable[[LintContext], Iterable[Hit]] | None = None  # None: the engine emits it


def each_change(
    ctx: LintContext,
    phases: Iterable[Phase | None] = ALL_PHASES,
    honour_exemptions: bool = False,
) -> Iterator[tuple[RevisionAnalysis, Statement, Change]]:
    """Every upgrade change of every revision in ``phases``.

    With ``honour_exemptions``, destructive changes the revision exempts with a reason
    (``expandcontract_exemptions = {kind: reason}``, the same declaration runtime policing
    honours) are skipped.
    """
    wanted = set(phases)
    for analysis in ctx.revisions:
        if analysis.phase not in wanted:
            continue
        exemptions = analysis.exemptions if honour_exemptions else {}
        for statement, change in analysis.changes():
            if exemptions.get(change.kind, "").strip():
                continue
            if len({c.sql for c in statement.changes}) > 1:
                # one op.execute() with several statements: show the one that is flagged
                statement = replace(statement, sql=change.sql)
            yield analysis, statement, change


def target(change: Change) -> str:
    """``table.column`` (or whatever the change names), for messages."""
    parts = [part for part in (change.table, change.column) if part]
    return ".".join(parts) or (change.name or "?")


def phase_name(analysis: RevisionAnalysis) -> str:
    """``an expand revision`` / ``a migrate revision`` / ..., for messages."""
    if analysis.legacy:
        return "a legacy revision (at or before the baseline)"
    if analysis.phase is None:
        return "an unphased revision (it may run while either release is live)"
    article = "an" if str(analysis.phase)[0] in "aeiou" else "a"
    return f"{article} {analysis.phase} revision"


# How to phase a change found in an unphased (or legacy) revision, by change kind.
_PHASING = {
    "drop": "phase it: put the drop in a contract revision (`expandcontract revision --phase "
    "contract`), which runs only after the new release has soaked",
    "rename": "phase it: use the rename pattern (expand adds the new name kept in sync, migrate "
    "backfills, contract drops the old one)",
    "type": "phase it: use the change_column_type pattern (expand adds a new column kept in "
    "sync, migrate backfills, contract drops the old one)",
}


def phasing_hint(analysis: RevisionAnalysis, how: str) -> str:
    """``"; phase it: ..."`` for revisions on no phase branch, else nothing."""
    return f"; {_PHASING[how]}" if analysis.phase is None else ""
