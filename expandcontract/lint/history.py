"""The revision history read from source, without importing a single revision.

Alembic's ``ScriptDirectory`` imports every revision to learn its ``down_revision``; one
revision importing a package CI does not have stops it. The linter instead reads
``revision``, ``down_revision``, ``depends_on`` and ``branch_labels`` from each file with
``ast``, so the graph, the phases and the baseline are known even when no revision imports.

A revision's phase is the nearest phase label declared (in ``branch_labels``) by itself or an
ancestor on its ``down_revision`` chain, stopping at legacy revisions: Alembic propagates a
branch label down a linear history to ancestors too, which would give the baseline's history
the phase of the first branch rooted on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.phases import PHASE_ORDER, Phase

_FIELDS = ("revision", "down_revision", "depends_on", "branch_labels")


@dataclass
class RevisionFile:
    """One revision file, as its source declares it."""

    revision: str
    path: Path
    source: str
    tree: ast.Module
    down_revisions: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # field name -> line it is assigned on

    @property
    def parents(self) -> tuple[str, ...]:
        """Everything that must run before it: down revisions and ``depends_on``."""
        return self.down_revisions + self.depends_on


@dataclass
class InvalidFile:
    """A ``.py`` file in a versions folder that is not valid Python."""

    path: Path
    message: str
    line: int | None


@dataclass
class History:
    """Every revision of a script directory, oldest first, with phases and legacy marked."""

    revisions: list[RevisionFile]
    invalid: list[InvalidFile]
    legacy: frozenset[str]
    phases: dict[str, Phase | None]
    phase_errors: dict[str, str]
    missing: list[tuple[RevisionFile, str]]  # (revision, id it names that does not exist)

    def __post_init__(self) -> None:
        self.by_id = {rev.revision: rev for rev in self.revisions}

    def closure(self, revision: str) -> list[RevisionFile]:
        """Every revision ``revision`` needs (down revisions and depends_on), transitively."""
        seen: dict[str, RevisionFile] = {}
        stack = list(self.by_id[revision].parents)
        while stack:
            rev_id = stack.pop()
            if rev_id in seen or rev_id not in self.by_id:
                continue
            seen[rev_id] = self.by_id[rev_id]
            stack.extend(self.by_id[rev_id].parents)
        return list(seen.values())


def _strings(node: ast.expr | None) -> tuple[str, ...] | None:
    """A literal None / str / tuple / list of str; None when it is not a literal."""
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, SyntaxError, TypeError):
        return None
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list | set | frozenset) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def read_revision(path: Path) -> RevisionFile | InvalidFile | None:
    """The revision ``path`` declares; None for a file that declares no revision (a helper)."""
    source = path.read_bytes().decode("utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as err:
        return InvalidFile(path, f"not valid Python: {err.msg}", err.lineno)
    values: dict[str, tuple[str, ...] | None] = {}
    lines: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in _FIELDS:
                values[target.id] = _strings(value)
                lines[target.id] = node.lineno
    revision = values.get("revision")
    if not revision:
        return None
    return RevisionFile(
        revision=revision[0],
        path=path,
        source=source,
        tree=tree,
        down_revisions=values.get("down_revision") or (),
        depends_on=values.get("depends_on") or (),
        branch_labels=values.get("branch_labels") or (),
        lines=lines,
    )


def read_history(files: Iterable[Path], baseline_heads: Iterable[str] | None) -> History:
    """The history of ``files``; ``baseline_heads`` None means the project has no baseline."""
    revisions: dict[str, RevisionFile] = {}
    invalid: list[InvalidFile] = []
    for path in files:
        read = read_revision(path)
        if isinstance(read, InvalidFile):
            invalid.append(read)
        elif read is not None:
            revisions.setdefault(read.revision, read)
    missing = [
        (rev, parent)
        for rev in revisions.values()
        for parent in rev.parents
        if parent not in revisions
    ]
    legacy = _ancestors_or_self(baseline_heads or (), revisions)
    phases, errors = _phases(revisions, legacy)
    return History(_oldest_first(revisions), invalid, legacy, phases, errors, missing)


def _ancestors_or_self(heads: Iterable[str], revisions: dict[str, RevisionFile]) -> frozenset[str]:
    seen: set[str] = set()
    stack = list(heads)
    while stack:
        rev_id = stack.pop()
        if rev_id in seen:
            continue
        seen.add(rev_id)
        if rev_id in revisions:
            stack.extend(revisions[rev_id].down_revisions)
    return frozenset(seen)


def _declared(rev: RevisionFile) -> list[Phase]:
    labels = {label.strip().lower() for label in rev.branch_labels}
    return [phase for phase in PHASE_ORDER if phase.value in labels]


def _phases(
    revisions: dict[str, RevisionFile], legacy: frozenset[str]
) -> tuple[dict[str, Phase | None], dict[str, str]]:
    """Each revision's phase: the nearest declared phase label on its down_revision chain."""
    found: dict[str, frozenset[Phase]] = {}

    def labels_of(rev_id: str) -> frozenset[Phase]:
        # Iterative (histories of thousands of revisions exceed the recursion limit).
        stack = [rev_id]
        entered: set[str] = set()  # a cycle in a broken history must not loop forever
        while stack:
            current = stack[-1]
            if current in found:
                stack.pop()
                continue
            rev = revisions.get(current)
            if rev is None or current in legacy:
                found[current] = frozenset()
                stack.pop()
                continue
            declared = _declared(rev)
            if declared:
                found[current] = frozenset(declared)
                stack.pop()
                continue
            pending = [p for p in rev.down_revisions if p not in found and p not in entered]
            entered.add(current)
            if pending:
                stack.extend(pending)
                continue
            found[current] = frozenset().union(
                *(found.get(p, frozenset()) for p in rev.down_revisions)
            )
            stack.pop()
        return found[rev_id]

    phases: dict[str, Phase | None] = {}
    errors: dict[str, str] = {}
    for rev_id in revisions:
        labels = labels_of(rev_id)
        if len(labels) > 1:
            names = ", ".join(p.value for p in PHASE_ORDER if p in labels)
            errors[rev_id] = (
                f"revision {rev_id} is on several phase branches ({names}); "
                "a revision belongs to exactly one phase"
            )
            phases[rev_id] = None
        else:
            phases[rev_id] = next(iter(labels), None)
    return phases, errors


def _oldest_first(revisions: dict[str, RevisionFile]) -> list[RevisionFile]:
    """Every revision, each after everything it depends on (ties broken by id)."""
    order: list[RevisionFile] = []
    placed: set[str] = set()
    entered: set[str] = set()  # a cycle in a broken history must not loop forever
    for rev_id in sorted(revisions):
        stack = [(rev_id, False)]
        while stack:
            current, expanded = stack.pop()
            if current in placed:
                continue
            if expanded:
                placed.add(current)
                order.append(revisions[current])
                continue
            entered.add(current)
            stack.append((current, True))
            stack.extend(
                (parent, False)
                for parent in revisions[current].parents
                if parent in revisions and parent not in placed and parent not in entered
            )
    return order
