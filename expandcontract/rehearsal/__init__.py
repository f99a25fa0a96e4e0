"""The rehearsal: the whole blue-green address split on one machine, under load, with a report.

``expandcontract rehearse`` runs it; from Python::

    from expandcontract.rehearsal import RehearsalOptions, run_rehearsal

    report = run_rehearsal(RehearsalOptions(rows=500, soak=timedelta(seconds=1)))
    report.ok, report.totals.failed, report.to_dict()

Parts, one module each: ``database`` (embedded or scratch database), ``seed``, ``servers``
(blue and green as real HTTP servers), ``router`` (weighted blue/green proxy), ``load`` (the
load generator), ``stage``/``story``/``naive`` (the story), ``consistency``, ``timeline``
(per-phase figures), ``report``/``html`` (table, JSON, HTML page), ``progress``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expandcontract.rehearsal.options import RehearsalOptions
    from expandcontract.rehearsal.report import RehearsalReport
    from expandcontract.rehearsal.run import run_rehearsal

_LAZY = {
    "RehearsalOptions": "expandcontract.rehearsal.options",
    "RehearsalReport": "expandcontract.rehearsal.report",
    "run_rehearsal": "expandcontract.rehearsal.run",
}


def __getattr__(name: str) -> Any:
    # Lazy: every release process loads ``expandcontract.rehearsal.gunicorn_conf``, which must
    # not import the whole rehearsal with it.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["RehearsalOptions", "RehearsalReport", "run_rehearsal"]
