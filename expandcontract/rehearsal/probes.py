"""Checks beyond the HTTP load, run once the story ends; their figures are merged into the report.

A probe looks at one kind of state the migration may break (sessions, caches, queue messages,
stored objects ...). Each returns named figures (zero is good) and a sentence per problem,
which becomes one of the verdict's reasons. Add a probe by appending a factory to ``PROBES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expandcontract.rehearsal.stage import Stage


@dataclass
class ProbeResult:
    """Figures for the report's JSON (``figures``, and each at the top level too; ``None``
    means not measured), the problems the verdict lists, and details per probe (``sections``,
    each under its own key in the JSON, e.g. ``state``)."""

    figures: dict[str, int | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)


Probe = Callable[["Stage"], ProbeResult]


def _state(stage: Stage) -> ProbeResult:
    """Sessions, cache, queue messages and stored objects across the releases (state_probe.py)."""
    from expandcontract.rehearsal.state_probe import state_probe  # it imports ProbeResult

    return state_probe(stage)


PROBES: list[Probe] = [_state]


def run_probes(stage: Stage, probes: list[Probe] | None = None) -> ProbeResult:
    """Run every probe and merge their results (a probe that crashes is itself a problem)."""
    merged = ProbeResult()
    for probe in PROBES if probes is None else probes:
        try:
            result = probe(stage)
        except Exception as err:  # one broken probe must not hide the others' findings
            merged.problems.append(f"probe {getattr(probe, '__name__', probe)} failed: {err}")
            continue
        merged.figures.update(result.figures)
        merged.problems.extend(result.problems)
        merged.sections.update(result.sections)
    return merged
