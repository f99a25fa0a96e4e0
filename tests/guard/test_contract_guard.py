"""The contract guard on every route that applies a contract revision (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config

from expandcontract import api
from expandcontract.errors import ContractRefused
from expandcontract.ledger import Event, Ledger
from expandcontract.phases import Phase

ROUTES: dict[str, Callable[[Config], None]] = {
    "expandcontract upgrade contract": lambda cfg: api.upgrade_phase(cfg, Phase.CONTRACT),
    "alembic upgrade contract@head": lambda cfg: command.upgrade(cfg, "contract@head"),
    "alembic upgrade heads": lambda cfg: command.upgrade(cfg, "heads"),
    "alembic upgrade <contract revision id>": lambda cfg: command.upgrade(cfg, "c1"),
    "alembic upgrade contract@+1": lambda cfg: command.upgrade(cfg, "contract@+1"),
}
# `upgrade heads` is the deploy command under the hook (DESIGN §12): during the soak it applies
# everything but the contract and reports it pending instead of failing (tests/adopt).
REFUSING = {name: route for name, route in ROUTES.items() if name != "alembic upgrade heads"}


def expand_and_migrate(project: Any) -> None:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    api.upgrade_phase(project.config(), Phase.MIGRATE)


def mark_stable(project, soak: str = "0s", **kwargs: str):
    """Marks are stamped by the database's clock: a soak of 0s is over at once."""
    return api.mark_release_stable(project.config(), "green", soak=soak, **kwargs)


@pytest.mark.parametrize("route", REFUSING)
def test_refused_before_any_stable_mark(project, route: str) -> None:
    expand_and_migrate(project)
    with pytest.raises(ContractRefused, match="no release has been marked stable"):
        REFUSING[route](project.config())
    assert "address" in project.columns()
    assert ("contract_refused", None) in project.ledger_events()


@pytest.mark.parametrize("route", REFUSING)
def test_refused_during_the_soak_says_when_and_how_long(project, route: str) -> None:
    expand_and_migrate(project)
    mark = mark_stable(project, soak="24h")
    with pytest.raises(ContractRefused) as refused:
        REFUSING[route](project.config())
    assert refused.value.allowed_at == mark.stable_at + timedelta(hours=24)
    assert timedelta(hours=23, minutes=59) < refused.value.remaining <= timedelta(hours=24)
    allowed_at = refused.value.allowed_at.isoformat(timespec="seconds")
    assert f"contract allowed at {allowed_at} (in 23h 59m" in str(refused.value)
    assert "address" in project.columns()


@pytest.mark.parametrize("route", ROUTES)
def test_allowed_after_the_soak(project, route: str) -> None:
    expand_and_migrate(project)
    mark_stable(project)
    ROUTES[route](project.config())
    assert "address" not in project.columns()
    assert ("contract_applied", "c1") in project.ledger_events()


def test_forced_contract_needs_a_reason_and_is_recorded(project) -> None:
    expand_and_migrate(project)
    api.upgrade_phase(project.config(), Phase.CONTRACT, force_reason="incident 4711: disk full")
    assert "address" not in project.columns()
    engine = project.engine()
    with engine.connect() as conn:
        forced = Ledger(conn).latest(Event.CONTRACT_FORCED)
    engine.dispose()
    assert forced is not None
    assert forced.details["reason"] == "incident 4711: disk full"
    assert forced.details["revisions"] == ["c1"]


def test_stable_mark_older_than_the_migrate_it_depends_on_is_refused(project) -> None:
    api.upgrade_phase(project.config(), Phase.EXPAND)
    mark_stable(project)
    api.upgrade_phase(project.config(), Phase.MIGRATE)
    with pytest.raises(ContractRefused, match="before migrate revision m1 was applied"):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" in project.columns()


def test_contract_dropping_a_column_the_stable_release_uses_is_refused(project) -> None:
    (project.root / "models_still_flat.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
        "         sa.Column('address', sa.Text))\n"
    )
    expand_and_migrate(project)
    mark_stable(project, metadata="models_still_flat:metadata")
    with pytest.raises(
        ContractRefused, match=r"drop column customers\.address, which release green"
    ):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" in project.columns()


def test_contract_allowed_when_the_stable_release_no_longer_uses_the_column(
    project,
) -> None:
    (project.root / "models_structured.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
        "         sa.Column('city', sa.Text))\n"
    )
    expand_and_migrate(project)
    mark_stable(project, metadata="models_structured:metadata")
    api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" not in project.columns()


def test_require_snapshot_refuses_until_a_snapshot_follows_the_stable_mark(
    project,
) -> None:
    (project.root / "pyproject.toml").write_text("[tool.expandcontract]\nrequire_snapshot = true\n")
    expand_and_migrate(project)
    mark_stable(project)
    with pytest.raises(ContractRefused, match="no snapshot was recorded"):
        api.upgrade_phase(project.config(), Phase.CONTRACT)
    engine = project.engine()
    with engine.begin() as conn:
        Ledger(conn).record(Event.SNAPSHOT_RECORDED, details={"snapshot": "pre-contract-1"})
    engine.dispose()
    api.upgrade_phase(project.config(), Phase.CONTRACT)
    assert "address" not in project.columns()


def test_downgrade_of_schema_the_stable_release_ran_on_is_refused(project) -> None:
    expand_and_migrate(project)
    mark_stable(project)
    with pytest.raises(ContractRefused, match="downgrading it may remove"):
        command.downgrade(project.config(), "base")
    assert "address" in project.columns()


def test_downgrade_is_refused_when_it_drops_what_the_stable_release_uses(
    project,
) -> None:
    (project.root / "models_v1.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "sa.Table('customers', metadata, sa.Column('id', sa.Integer, primary_key=True))\n"
    )
    expand_and_migrate(project)
    mark_stable(project, metadata="models_v1:metadata")
    with pytest.raises(ContractRefused, match="drop table customers"):
        command.downgrade(project.config(), "base")


def test_contract_allowed_api_says_why_not_and_when(project) -> None:
    expand_and_migrate(project)
    verdict = api.contract_allowed(project.config())
    assert not verdict.allowed
    assert verdict.revisions == ["c1"]
    mark = mark_stable(project, soak="1h")
    verdict = api.contract_allowed(project.config())
    assert not verdict.allowed and verdict.allowed_at == mark.stable_at + timedelta(hours=1)
    mark_stable(project, soak="0s")
    assert api.contract_allowed(project.config()).allowed
