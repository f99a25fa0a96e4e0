"""Phases are Alembic branches: ``expand``, ``migrate`` and ``contract``.

The root revision of each branch declares the branch label in its own file; its descendants
are on the same branch. A revision's phase is the phase label declared by the nearest revision
on its ``down_revision`` chain (itself included). Revisions at or before an adopted project's
baseline (:mod:`expandcontract.baseline`) are **legacy** and have no phase.

Alembic's own ``branch_labels`` cannot be used for this: it propagates a label to descendants
*and*, on a linear stretch of history, down to ancestors, so the label of the first expand
revision leaks onto every legacy revision (and from there onto the other phase branches).
:func:`annotate` computes the phases once per script directory from each file's own labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from alembic.script import Script, ScriptDirectory

from expandcontract.baseline import Baseline, read_baseline
from expandcontract.errors import ConfigurationError, HistoryError

_PHASE_ATTR = "_expandcontract_phase"
_LEGACY_ATTR = "_expandcontract_legacy"


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


def declared_phase(revision: Script) -> Phase | None:
    """The phase label written in the revision's own file (``branch_labels``), if any."""
    labels = {str(label) for label in getattr(revision, "_orig_branch_labels", ()) or ()}
    found = [phase for phase in PHASE_ORDER if phase.value in labels]
    if len(found) > 1:
        raise HistoryError(
            f"revision {revision.revision} declares several phase labels "
            f"({', '.join(found)}); a revision belongs to exactly one phase",
            revision.revision,
        )
    return found[0] if found else None


def annotate(script: ScriptDirectory) -> Baseline | None:
    """Compute every revision's phase (and legacy flag) once; returns the baseline, if any.

    Raises :class:`ConfigurationError` when the baseline names a revision that does not exist,
    and :class:`HistoryError` when a revision sits on two phase branches.
    """
    baseline = read_baseline(script.dir)
    revisions = all_revisions(script)
    by_id = {rev.revision: rev for rev in revisions}
    legacy: frozenset[str] = frozenset()
    if baseline is not None:
        missing = [head for head in baseline.heads if head not in by_id]
        if missing:
            raise ConfigurationError(
                f"{baseline.path}: the baseline names revision {', '.join(missing)}, which is "
                f"not in {script.dir}; set heads to existing revision ids (see `alembic history`)"
            )
        legacy = baseline.legacy(lambda rev_id: by_id[rev_id]._all_down_revisions)
    phases: dict[str, Phase | None] = {}
    for revision in revisions:  # oldest first: parents are known before their children
        rev_id = revision.revision
        phase: Phase | None = None
        if rev_id not in legacy:
            phase = declared_phase(revision)
            if phase is None:
                inherited = {phases.get(parent) for parent in _down_revisions(revision)} - {None}
                if len(inherited) > 1:
                    raise HistoryError(
                        f"revision {rev_id} merges revisions of different phases "
                        f"({', '.join(sorted(str(p) for p in inherited))}); "
                        "a revision belongs to exactly one phase",
                        rev_id,
                    )
                phase = inherited.pop() if inherited else None
        phases[rev_id] = phase
        setattr(revision, _PHASE_ATTR, phase)
        setattr(revision, _LEGACY_ATTR, rev_id in legacy)
    return baseline


def _down_revisions(revision: Script) -> tuple[str, ...]:
    down = revision.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


def phase_of(revision: Script) -> Phase | None:
    """The phase branch a revision is on, or None (legacy, or on no phase branch).

    Exact once :func:`annotate` has run on the revision's script directory (every entry point
    of expandcontract does). Otherwise it falls back to the labels Alembic propagated, which is
    right for projects without a baseline.
    """
    if hasattr(revision, _PHASE_ATTR):
        return getattr(revision, _PHASE_ATTR)  # type: ignore[no-any-return]
    own = declared_phase(revision)
    if own is not None:
        return own
    labels = {str(label) for label in revision.branch_labels}
    found = [phase for phase in PHASE_ORDER if phase.value in labels]
    if len(found) > 1:
        raise HistoryError(
            f"revision {revision.revision} is on several phase branches "
            f"({', '.join(found)}); a revision belongs to exactly one phase",
            revision.revision,
        )
    return found[0] if found else None


def is_legacy(revision: Script) -> bool:
    """True for a revision at or before the adopted baseline (after :func:`annotate`)."""
    return bool(getattr(revision, _LEGACY_ATTR, False))


def require_phase(revision: Script) -> Phase:
    """Like :func:`phase_of`, but a revision on no phase branch is an error."""
    phase = phase_of(revision)
    if phase is None:
        raise HistoryError(
            f"revision {revision.revision} ({revision.path}) is on no phase branch: "
            "create revisions with `expandcontract revision --phase PHASE`, or, if this is "
            "the history the project had before expandcontract, run `expandcontract adopt`",
            revision.revision,
        )
    return phase


def all_revisions(script: ScriptDirectory) -> list[Script]:
    """Every revision, oldest first."""
    return list(reversed(list(script.walk_revisions())))


def branch_heads(script: ScriptDirectory) -> dict[Phase, list[str]]:
    """The head revision ids of each phase branch (normally one each); legacy ones aside."""
    annotate(script)
    heads: dict[Phase, list[str]] = {phase: [] for phase in PHASE_ORDER}
    for revision in all_revisions(script):
        phase = phase_of(revision)
        if phase is None:
            continue
        # Alembic's own "heads" hides revisions that others depend on; a branch head is a
        # revision with no child on its own branch.
        children = [script.get_revision(child) for child in revision.nextrev]
        if not any(child is not None and phase_of(child) is phase for child in children):
            heads[phase].append(revision.revision)
    return heads


def legacy_heads(script: ScriptDirectory) -> list[str]:
    """The baseline heads of an adopted project (empty when it was never adopted)."""
    baseline = annotate(script)
    return list(baseline.heads) if baseline else []


def validate_history(script: ScriptDirectory) -> None:
    """Raise :class:`HistoryError` when the history breaks the phase rules."""
    baseline = annotate(script)
    for phase, heads in branch_heads(script).items():
        if len(heads) > 1:
            raise HistoryError(
                f"the {phase} branch has {len(heads)} heads ({', '.join(sorted(heads))}); "
                f"merge them with `alembic merge -m 'merge {phase}' {' '.join(sorted(heads))}`"
            )
    for revision in all_revisions(script):
        if is_legacy(revision):
            continue
        require_phase(revision)
        if baseline is not None and revision.down_revision is None:
            raise HistoryError(
                f"revision {revision.revision} ({Path(revision.path).name}) starts a branch at "
                f"base, disconnected from the adopted baseline: on a fresh database it would "
                f"run before the legacy history. Set its down_revision to "
                f"{_quoted(baseline.heads)}",
                revision.revision,
            )


def _quoted(heads: Iterable[str]) -> str:
    listed = [repr(h) for h in heads]
    return listed[0] if len(listed) == 1 else f"({', '.join(listed)})"


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
