"""Checks beyond the HTTP load, run once the story ends; their figures are merged into the report.

A probe looks at one kind of state the migration may break (sessions, caches, queue messages,
stored objects ...). Each returns named figures (zero is good) and a sentence per problem,
which becomes one of the verdict's reasons. Add a probe by appending a factory to ``PROBES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expandcontract.rehearsal.stage import Stage


@dataclass
class ProbeResult:
    """Figures for the report's JSON (``figures``) and the problems the verdict lists."""

    figures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


Probe = Callable[["Stage"], ProbeResult]

PROBES: list[Probe] = []


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
    return merged
