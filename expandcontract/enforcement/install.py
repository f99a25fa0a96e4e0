"""Installing the server-side guard, upgrading an older one, and reading its state and version."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from expandcontract.config import LEDGER_SCHEMA
from expandcontract.enforcement.approvals import GRANT, REVOKE
from expandcontract.enforcement.ddl import (
    APPROVAL_FUNCTIONS,
    APPROVALS,
    APPROVALS_DDL,
    EVENTS,
    TRIGGER_FUNCTIONS,
    TRIGGER_NAMES,
    event_triggers,
)
from expandcontract.ledger import run_ddl
from expandcontract.sql.triggers import function_definition

# The version of the server-side guard is a fingerprint of what it is made of: the source of
# each of its functions and which function each event trigger runs on which event. The
# expected version is computed from the DDL in :mod:`.ddl`, the installed one from the catalog with the
# same recipe, so an older install, a missing piece and a function body replaced by hand all
# read as "not the expected version", and the hook re-installs.


def _fingerprint(functions: dict[str, str], triggers: dict[str, list[str]]) -> str:
    payload = json.dumps({"functions": functions, "event_triggers": triggers}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


@functools.cache
def _expected_functions() -> dict[str, str]:
    bodies: dict[str, str] = {}
    for statement in [*APPROVAL_FUNCTIONS, *TRIGGER_FUNCTIONS]:
        definition = function_definition(statement)
        if definition is not None:
            bodies[definition.name.rsplit(".", 1)[-1]] = definition.source
    return bodies


def expected_version() -> str:
    """The version this library installs (a fingerprint of its DDL)."""
    triggers = {
        name: [event, f"{LEDGER_SCHEMA}.{function}"] for name, (event, function) in EVENTS.items()
    }
    return _fingerprint(_expected_functions(), triggers)


_INSTALLED_FUNCTIONS = """
SELECT p.proname, p.prosrc FROM pg_proc p
 WHERE p.pronamespace = to_regnamespace(:schema) AND p.proname = ANY(:names)"""
_INSTALLED_TRIGGERS = """
SELECT e.evtname, e.evtevent, n.nspname || '.' || p.proname FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE e.evtname = ANY(:names)"""


def installed_version(connection: Connection) -> str | None:
    """The fingerprint of what is installed here, by the same recipe; None if nothing is."""
    functions = {
        name: source
        for name, source in connection.execute(
            sa.text(_INSTALLED_FUNCTIONS),
            {"schema": LEDGER_SCHEMA, "names": sorted(_expected_functions())},
        ).all()
    }
    triggers = {
        name: [event, function]
        for name, event, function in connection.execute(
            sa.text(_INSTALLED_TRIGGERS), {"names": list(TRIGGER_NAMES)}
        ).all()
    }
    if not functions and not triggers:
        return None
    return _fingerprint(functions, triggers)


@dataclass(frozen=True)
class Enforcement:
    """Whether the server-side guard is on in this database, and why not."""

    enabled: bool
    reason: str = ""
    installed: str | None = None  # the version installed here (None: nothing is)
    expected: str | None = None  # the version this library installs
    upgraded_from: str | None = None  # set by install() when it replaced an older version

    @property
    def current(self) -> bool:
        return self.installed == self.expected

    def describe(self) -> str:
        if not self.enabled:
            return f"off: {self.reason}"
        if self.current:
            return "on (event trigger)"
        return (
            f"on (event trigger), but version {self.installed} is installed and this library "
            f"expects {self.expected}: "
            + (self.reason or "the next migration run through the hook upgrades it")
        )


def enforcement_status(connection: Connection) -> Enforcement:
    """Is the event trigger installed and enabled here, and in which version? Read-only."""
    if connection.dialect.name != "postgresql":
        return Enforcement(False, f"{connection.dialect.name} has no event triggers")
    versions: dict[str, Any] = {
        "installed": installed_version(connection),
        "expected": expected_version(),
    }
    rows: dict[str, str] = dict(
        connection.execute(
            sa.text("SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname = ANY(:names)"),
            {"names": list(TRIGGER_NAMES)},
        ).all()
    )
    missing = [name for name in TRIGGER_NAMES if name not in rows]
    if missing:
        return Enforcement(
            False, f"event trigger(s) {', '.join(missing)} not installed", **versions
        )
    disabled = [name for name, state in rows.items() if state == "D"]
    if disabled:
        return Enforcement(
            False, f"event trigger(s) {', '.join(sorted(disabled))} disabled", **versions
        )
    return Enforcement(True, **versions)


def install(connection: Connection) -> Enforcement:
    """Install approvals and the event trigger, or upgrade them to this library's version;
    without the privilege, say why (no error).

    Runs in a savepoint so a refusal leaves the caller's transaction usable. An upgrade runs
    under an approval of this session (the live event trigger refuses DDL on its own schema),
    withdrawn before it returns.
    """
    if connection.dialect.name != "postgresql":
        return enforcement_status(connection)
    approvals = connection.execute(sa.text("SELECT to_regclass(:n)"), {"n": APPROVALS}).scalar()
    status = enforcement_status(connection)
    if approvals is not None and status.enabled and status.current:
        return status
    for statement in APPROVALS_DDL:
        run_ddl(connection, statement)
    upgrading = status.installed is not None
    try:
        with connection.begin_nested():
            if upgrading:
                connection.exec_driver_sql(GRANT, (None, None, "upgrading the server-side guard"))
            statements = [*TRIGGER_FUNCTIONS, *event_triggers(replace=upgrading)]
            for statement in [*(APPROVAL_FUNCTIONS if upgrading else []), *statements]:
                run_ddl(connection, statement)
            if upgrading:
                connection.exec_driver_sql(REVOKE)
    except sa.exc.DBAPIError as err:
        if getattr(err.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        role = connection.execute(sa.text("SELECT session_user")).scalar()
        if status.enabled:
            return replace(
                status,
                reason=f"role {role} may not upgrade it (needs superuser; rds_superuser on "
                "RDS/Aurora): run a migration once as such a role",
            )
        return Enforcement(
            False,
            f"role {role} may not create event triggers (needs superuser; rds_superuser on "
            "RDS/Aurora), so only the client-side guard protects this database",
            installed=status.installed,
            expected=status.expected,
        )
    return replace(
        enforcement_status(connection),
        upgraded_from=status.installed
        if upgrading and status.installed != status.expected
        else None,
    )
