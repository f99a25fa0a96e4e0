"""The contract waits for the data: unresolved quarantined rows block it, even after the soak."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.util import CommandError

from expandcontract.api import contract_allowed, mark_release_stable
from expandcontract.backfill import list_quarantine, resolve_quarantine
from tests.app.conftest import Live


def test_contract_refused_while_quarantine_is_unresolved(
    upgrade, alembic_config: Config, engine: sa.Engine, start_app, db
) -> None:
    upgrade("0001_customers")
    blue: Live = start_app("blue")
    bad = blue.post(
        "/api/customers",
        json={
            "name": "Bad",
            "email": "bad@example.test",
            "address": "1 Infinite Loop, Cupertino, California, 95014",
        },
    ).json()
    upgrade("expand@head")
    upgrade("migrate@head")
    with engine.connect() as connection:
        [row] = list_quarantine(connection, "customers")
    assert row.primary_key == str(bad["id"])
    assert row.original_value == "1 Infinite Loop, Cupertino, California, 95014"
    assert row.reason == 'state "California" is not two letters'

    # Green is stable and the soak is over (marks are stamped by the database's clock, so a
    # soak of 0s is the test's way to have waited): only the data is in the way.
    mark_release_stable(alembic_config, "green", soak="0s")
    # The guard itself has no objection, but the contract's own precondition does: status and
    # contract_allowed() say so too.
    verdict = contract_allowed(alembic_config)
    assert not verdict.allowed
    assert any("1 quarantined row" in reason for reason in verdict.reasons)
    with pytest.raises(CommandError, match="1 quarantined row"):
        upgrade("contract@head")
    assert db("SELECT address FROM customers")[0]["address"] == row.original_value  # kept

    # Fixing the row resolves its entry (the trigger converted it), lets the contract through,
    # and the fixed address survives the drop.
    fixed = blue.put(
        f"/api/customers/{bad['id']}", json={"address": "1 Infinite Loop, Cupertino, CA, 95014"}
    )
    assert fixed.status_code == 200
    assert contract_allowed(alembic_config).allowed
    upgrade("contract@head")
    with engine.connect() as connection:
        [entry] = list_quarantine(connection, "customers", include_resolved=True)
    assert entry.resolution is not None and entry.resolution.startswith("converted later")
    green = start_app("green")
    assert green.get(f"/api/customers/{bad['id']}").json()["address"] == {
        "street": "1 Infinite Loop", "city": "Cupertino", "state": "CA", "zip": "95014",
    }  # fmt: skip


def test_accepting_a_quarantined_row_keeps_its_original_value(
    upgrade, alembic_config: Config, engine: sa.Engine, db
) -> None:
    """Accepted as-is, the row lets the contract through; its address lives on in quarantine."""
    upgrade("0001_customers")
    db("INSERT INTO customers (name, email, address) VALUES ('X', 'x@example.test', 'PO Box 12')")
    upgrade("expand@head")
    upgrade("migrate@head")
    mark_release_stable(alembic_config, "green", soak="0s")
    with pytest.raises(CommandError, match="quarantined"):
        upgrade("contract@head")
    with engine.begin() as connection:
        resolve_quarantine(connection, "customers", resolution="accepted: PO boxes have no city")
    upgrade("contract@head")
    assert db("SELECT street_address FROM customers") == [{"street_address": None}]
    with engine.connect() as connection:
        [entry] = list_quarantine(connection, "customers", include_resolved=True)
    assert (entry.original_value, entry.resolution) == (
        "PO Box 12",
        "accepted: PO boxes have no city",
    )
