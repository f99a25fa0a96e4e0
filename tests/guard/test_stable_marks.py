"""Stable marks that mean something (DESIGN §5): each attack judged by the column surviving."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command

from expandcontract import api, durations
from expandcontract.durations import utcnow
from expandcontract.errors import ConfigurationError, ContractRefused
from expandcontract.ledger import Event, Ledger
from expandcontract.phases import Phase
from tests.guard.test_cli import run


def contract(project: Any) -> None:
    api.upgrade_phase(project.config(), Phase.CONTRACT)


def record(project: Any, event: Event, **fields: Any) -> None:
    engine = project.engine()
    with engine.begin() as conn:
        Ledger(conn).record(event, **fields)
    engine.dispose()


def test_a_mark_backdated_before_the_expand_is_refused(expanded: Any) -> None:
    marked = run(expanded, "mark-stable", "green", "--soak", "24h", "--at", "2020-01-01T00:00:00Z")
    assert marked.exit_code == 0, marked.output
    with pytest.raises(ContractRefused, match="never ran on the expanded schema"):
        contract(expanded)
    assert "address" in expanded.columns()


def test_a_mark_in_the_future_is_refused_when_recorded(expanded: Any) -> None:
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    with pytest.raises(ConfigurationError, match="later than the database's clock"):
        api.mark_release_stable(expanded.config(), "green", soak="0s", at=tomorrow)
    assert ("release_stable", None) not in expanded.ledger_events()


def test_a_timestamp_without_offset_is_refused(expanded: Any) -> None:
    result = run(expanded, "mark-stable", "green", "--at", "2026-11-26T09:00:00")
    assert result.exit_code == 2
    assert ("release_stable", None) not in expanded.ledger_events()


@pytest.mark.parametrize("soak", ["99999999999d", "1e400s", "P9999999999D"])
def test_absurd_durations_are_a_clean_error(expanded: Any, soak: str) -> None:
    result = run(expanded, "mark-stable", "green", "--soak", soak)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert ("release_stable", None) not in expanded.ledger_events()


def test_the_old_release_cannot_be_marked_once_a_newer_one_is_deployed(expanded: Any) -> None:
    record(expanded, Event.RELEASE_DEPLOYED, release="green")
    api.mark_release_stable(expanded.config(), "blue", soak="0s")
    with pytest.raises(ContractRefused, match="deployed last is green"):
        contract(expanded)
    assert "address" in expanded.columns()
    api.mark_release_stable(expanded.config(), "green", soak="0s")
    contract(expanded)
    assert "address" not in expanded.columns()


def test_a_runner_with_a_fast_clock_does_not_end_the_soak(
    expanded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.mark_release_stable(expanded.config(), "green", soak="24h")
    # The runner's clock (every time the library could read on this machine) 2 days fast.
    monkeypatch.setattr(durations, "utcnow", lambda: utcnow() + timedelta(days=2))
    with pytest.raises(ContractRefused, match="soaked"):
        api.upgrade_phase(expanded.config(), Phase.CONTRACT)
    assert "address" in expanded.columns()


def test_a_configured_minimum_soak_refuses_shorter_marks(expanded: Any) -> None:
    (expanded.root / "pyproject.toml").write_text('[tool.expandcontract]\nminimum_soak = "1h"\n')
    api.mark_release_stable(expanded.config(), "green", soak="0s")
    with pytest.raises(ContractRefused, match="minimum_soak"):
        contract(expanded)
    assert "address" in expanded.columns()


def test_a_contract_reverted_after_the_mark_needs_a_new_mark(expanded: Any) -> None:
    api.mark_release_stable(expanded.config(), "green", soak="0s")
    contract(expanded)
    command.downgrade(expanded.config(), "contract@-1")
    assert "address" in expanded.columns()  # blue can write address again
    with pytest.raises(ContractRefused, match="downgraded after release green"):
        contract(expanded)
    assert "address" in expanded.columns()


NEXT_CYCLE = {
    "e2": dict(down="e1", up='op.add_column("customers", sa.Column("zip", sa.Text))'),
    "c2": dict(down="c1", up='op.drop_column("customers", "city")', deps=None),
}


@pytest.mark.parametrize("deps", [None, ("m1",)], ids=["empty depends_on", "partial depends_on"])
def test_a_mark_from_the_previous_cycle_does_not_allow_the_next_contract(
    expanded: Any, deps: Any
) -> None:
    api.mark_release_stable(expanded.config(), "green", soak="0s")
    contract(expanded)
    expanded.write("e2", **NEXT_CYCLE["e2"])
    expanded.write("c2", **{**NEXT_CYCLE["c2"], "deps": deps})
    api.upgrade_phase(expanded.config(), Phase.EXPAND)
    with pytest.raises(ContractRefused) as refused:
        contract(expanded)
    assert "mark it stable again" in str(refused.value)
    if deps is None:
        assert "empty depends_on" in str(refused.value)
    assert "city" in expanded.columns()
