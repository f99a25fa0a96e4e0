"""One test holds the online guard and the offline guard block to the same verdict.

For every named check, a ledger where exactly that check fails: the online verdict names it,
and the offline block (run by real psql) refuses with it. A ledger where all pass: both allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from expandcontract import api
from expandcontract.config import load_settings
from expandcontract.guard import ContractGuard, offline
from expandcontract.guard.checks import CHECKS, NO_MARK
from expandcontract.ledger import Event, Ledger
from expandcontract.phases import Phase

USES_ADDRESS = (
    "import sqlalchemy as sa\n"
    "metadata = sa.MetaData()\n"
    "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
    "         sa.Column('address', sa.Text))\n"
)


def record(project: Any, event: Event, **fields: Any) -> None:
    engine = project.engine()
    with engine.begin() as conn:
        Ledger(conn).record(event, **fields)
    engine.dispose()


def mark(project: Any, soak: str = "0s", **kwargs: Any) -> None:
    api.mark_release_stable(project.config(), "green", soak=soak, **kwargs)


def _migrated_mark(p: Any) -> None:
    p.sql(
        "INSERT INTO expandcontract.expandcontract_ledger (event, release, details) VALUES "
        "('release_stable', 'green', jsonb_build_object('stable_at', now(), 'soak_seconds', 0,"
        " 'migrated_from', 'public.expandcontract_ledger'))"
    )


def _undeclared(p: Any) -> None:
    p.write("c1", labels=("contract",), deps=None, up='op.drop_column("customers", "city")')
    mark(p)


def _unapplied_dependency(p: Any) -> None:
    p.write("e2", down="e1", up='op.add_column("customers", sa.Column("zip", sa.Text))')
    p.write("c1", labels=("contract",), deps=("e2", "m1"), up='op.drop_column("customers", "city")')
    mark(p)


def _late_schema(p: Any) -> None:
    mark(p)
    record(p, Event.PHASE_APPLIED, revision="m0", phase="migrate")


def _reverted(p: Any) -> None:
    mark(p)
    record(p, Event.PHASE_REVERTED, revision="c0", phase="contract")


def _other_deployed(p: Any) -> None:
    mark(p)
    record(p, Event.RELEASE_DEPLOYED, release="blue")


def _soaking(p: Any) -> None:
    mark(p, soak="24h")


def _in_use(p: Any) -> None:
    (p.root / "models_parity_usage.py").write_text(USES_ADDRESS)
    mark(p, metadata="models_parity_usage:metadata")


def _no_snapshot(p: Any) -> None:
    (p.root / "pyproject.toml").write_text("[tool.expandcontract]\nrequire_snapshot = true\n")
    mark(p)


FAILING: dict[str, Callable[[Any], None]] = {
    NO_MARK: lambda p: None,
    "trusted_mark": _migrated_mark,
    "depends_on_declared": _undeclared,
    "dependencies_applied": _unapplied_dependency,
    "mark_after_schema": _late_schema,
    "contract_not_reverted": _reverted,
    "deployed_last": _other_deployed,
    "soak": _soaking,
    "usage": _in_use,
    "snapshot": _no_snapshot,
    "(none)": lambda p: mark(p),
}


def test_every_check_has_a_case() -> None:
    assert {check.name for check in CHECKS} | {NO_MARK} == set(FAILING) - {"(none)"}


@pytest.mark.parametrize("failing", FAILING)
def test_online_and_offline_verdicts_agree(project: Any, failing: str) -> None:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    FAILING[failing](project)
    script = ScriptDirectory.from_config(project.config())
    pending = [script.get_revision("c1")]
    engine = project.engine()
    with engine.connect() as conn:
        guard = ContractGuard(script, Ledger(conn), load_settings(project.root))
        verdict = guard.evaluate(pending)
        block = offline.guard_block(guard.offline_plan(pending))
    engine.dispose()
    result = project.psql(f"{offline.STOP_ON_ERROR}{block};\n")
    if failing == "(none)":
        assert verdict.allowed, verdict.reasons
        assert result.returncode == 0, result.stderr
    else:
        assert verdict.failed == [failing], verdict.reasons
        assert result.returncode != 0
        assert f"[{failing}]" in result.stderr
