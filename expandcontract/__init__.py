"""expandcontract: zero-downtime expand -> migrate -> contract schema changes on Alembic.

Public API (imports neither Flask nor boto3)::

    import expandcontract

    expandcontract.run_migrations(context)             # the one call in env.py
    expandcontract.check_compatibility(conn, metadata)  # can the live schema serve a release?
    expandcontract.contract_allowed(config)             # is contract allowed now, and why not?
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "ConfigurationError": "expandcontract.errors",
    "ContractRefused": "expandcontract.errors",
    "ExpandContractError": "expandcontract.errors",
    "PhaseViolation": "expandcontract.errors",
    "PreconditionFailed": "expandcontract.errors",
    "run_migrations": "expandcontract.hook",
    "check_compatibility": "expandcontract.compat",
    "CompatibilityReport": "expandcontract.compat",
    "contract_allowed": "expandcontract.api",
    "database_status": "expandcontract.api",
    "mark_release_stable": "expandcontract.api",
    "upgrade_phase": "expandcontract.api",
    "Phase": "expandcontract.phases",
}

if TYPE_CHECKING:
    from expandcontract.api import (
        contract_allowed,
        database_status,
        mark_release_stable,
        upgrade_phase,
    )
    from expandcontract.compat import CompatibilityReport, check_compatibility
    from expandcontract.errors import (
        ConfigurationError,
        ContractRefused,
        ExpandContractError,
        PhaseViolation,
        PreconditionFailed,
    )
    from expandcontract.hook import run_migrations
    from expandcontract.phases import Phase


def __getattr__(name: str) -> Any:
    # Lazy, so `expandcontract --help` and `import expandcontract` stay fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'expandcontract' has no attribute {name!r}")


__all__ = [
    "CompatibilityReport",
    "ConfigurationError",
    "ContractRefused",
    "ExpandContractError",
    "Phase",
    "PhaseViolation",
    "PreconditionFailed",
    "check_compatibility",
    "contract_allowed",
    "database_status",
    "mark_release_stable",
    "run_migrations",
    "upgrade_phase",
]
