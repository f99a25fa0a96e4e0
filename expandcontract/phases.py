"""Phases are Alembic branches: ``expand``, ``migrate`` and ``contract``.

The root revision of each branch carries the branch label; its descendants inherit it. A
revision's phase is therefore the phase label Alembic has propagated to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from alembic.script import Script, ScriptDirectory

from expandcontract.errors import ConfigurationError, HistoryError


class Phase(StrEnum):
    EXPAND = "expand"
    MIGRATE = "migrate"
    CONTRACT = "contract"

    @classmethod
    def parse(cls, value: str) -> Phase:
        try:
            return cls(value.strip().lower())
        except ValueError as err:
            raise ConfigurationError(
                f"unknown phase {value!r}: choose one of expand, migrate, contract"
            ) from err


PHASE_ORDER = (Phase.EXPAND, Phase.MIGRATE, Phase.CONTRACT)


def phase_of(revision: Script) -> Phase | None:
    """The phase branch a revision is on, or None when it is on no phase branch."""
    labels = {str(label) for label in revision.branch_labels}
    found = [phase for phase in PHASE_ORDER if phase.value in labels]
    if len(found) > 1:
        raise HistoryError(
            f"revision {revision.revision} is on several phase branches "
            f"({', '.join(found)}); a revision belongs to exactly one phase",
            revision.revision,
        )
    return found[0] if found else None


def require_phase(revision: Script) -> Phase:
    """Like :func:`phase_of`, but a revision on no phase branch is an error."""
    phase = phase_of(revision)
    if phase is None:
        raise HistoryError(
            f"revision {revision.revision} ({revision.path}) is on no phase branch: "
            "give its branch root branch_labels=('expand',), ('migrate',) or ('contract',), "
            "or create it with `expandcontract revision --phase PHASE`",
            revision.revision,
        )
    return phase


def all_revisions(script: ScriptDirectory) -> list[Script]:
    """Every revision, oldest first."""
    return list(reversed(list(script.walk_revisions())))


def branch_heads(script: ScriptDirectory) -> dict[Phase, list[str]]:
    """The head revision ids of each phase branch (normally one each)."""
    # Alembic's own "heads" hides revisions that others depend on; a branch head is a revision
    # with no child on its branch.
    heads: dict[Phase, list[str]] = {phase: [] for phase in PHASE_ORDER}
    for revision in all_revisions(script):
        if not revision.nextrev:
            heads[require_phase(revision)].append(revision.revision)
    return heads


def validate_history(script: ScriptDirectory) -> None:
    """Raise :class:`HistoryError` when the history breaks the phase rules."""
    for phase, heads in branch_heads(script).items():
        if len(heads) > 1:
            raise HistoryError(
                f"the {phase} branch has {len(heads)} heads ({', '.join(sorted(heads))}); "
                f"merge them with `alembic merge -m 'merge {phase}' {' '.join(sorted(heads))}`"
            )
    for revision in all_revisions(script):
        require_phase(revision)


def applied_revisions(script: ScriptDirectory, current_heads: Iterable[str]) -> set[str]:
    """Every revision id at or below the database's current heads (dependencies included)."""
    applied: set[str] = set()
    pending = [h for h in current_heads if h]
    while pending:
        rev_id = pending.pop()
        if rev_id in applied:
            continue
        applied.add(rev_id)
        revision = script.get_revision(rev_id)
        if revision is not None:
            pending.extend(revision._all_down_revisions)
    return applied


def dependency_closure(script: ScriptDirectory, revision: Script) -> list[Script]:
    """All revisions ``revision`` needs (down revisions and ``depends_on``), transitively."""
    seen: dict[str, Script] = {}
    stack = list(revision._all_down_revisions)
    while stack:
        rev_id = stack.pop()
        if rev_id in seen:
            continue
        dep = script.get_revision(rev_id)
        if dep is None:
            continue
        seen[rev_id] = dep
        stack.extend(dep._all_down_revisions)
    return list(seen.values())
