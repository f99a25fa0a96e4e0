"""Which revision is running right now, for the hooks and operations that need to know.

Operations use :func:`current_step` to refuse running in the wrong phase; the policing hook
uses it to judge the SQL being executed.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from alembic.runtime.migration import MigrationContext

from expandcontract.phases import Phase

EXEMPTIONS_ATTR = "expandcontract_exemptions"


@dataclass
class Step:
    """The revision being applied (or rendered)."""

    revision: str
    phase: Phase | None
    module: ModuleType | None = None
    is_upgrade: bool = True

    @property
    def exemptions(self) -> dict[str, str]:
        """``{change kind: reason}`` the revision declares, e.g. ``{"drop_index": "..."}``."""
        declared = getattr(self.module, EXEMPTIONS_ATTR, None) or {}
        return {str(k): str(v) for k, v in dict(declared).items()}


@dataclass
class RunState:
    offline: bool = False
    rendering: bool = False
    current: Step | None = None
    internal: int = 0  # >0 while expandcontract itself runs SQL (ledger writes), not the revision
    extras: dict[str, Any] = field(default_factory=dict)

    def enter(
        self,
        revision: str,
        phase: Phase | None,
        module: ModuleType | None,
        is_upgrade: bool = True,
    ) -> Step:
        self.current = Step(revision, phase, module, is_upgrade)
        return self.current


_STATES: weakref.WeakKeyDictionary[MigrationContext, RunState] = weakref.WeakKeyDictionary()


def attach(context: MigrationContext, state: RunState) -> RunState:
    _STATES[context] = state
    return state


def run_state(context: MigrationContext) -> RunState | None:
    return _STATES.get(context)


def current_step(context: MigrationContext) -> Step | None:
    """The revision ``context`` is applying, or None outside an expandcontract run."""
    state = _STATES.get(context)
    return state.current if state else None
