"""Blue and green live at once on one database, at every schema state (issue 5's matrix).

Real PostgreSQL, real HTTP, migrations through ``alembic.command``. One story, in order:
before expand -> after expand -> after migrate (with a rollback to blue) -> contract refused
-> after contract.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.config import Config

from expandcontract import ContractRefused
from expandcontract.api import mark_release_stable
from tests.app.conftest import Live

V2 = {"street": "9 Elm St, Unit 7", "city": "Boise", "state": "ID", "zip": "83702"}
V2_FLAT = "9 Elm St, Unit 7, Boise, ID, 83702"


def create(live: Live, body: dict[str, Any]) -> dict[str, Any]:
    response = live.post("/api/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def read(live: Live, customer_id: int, version: str = "") -> dict[str, Any]:
    prefix = f"/api/{version}/customers" if version else "/api/customers"
    response = live.get(f"{prefix}/{customer_id}")
    assert response.status_code == 200, response.text
    return response.json()


def health(live: Live) -> tuple[int, dict[str, Any]]:
    """Status and body of /health, without ``services`` (the optional state services,
    checked in tests/app/test_state_*.py): they never decide health."""
    response = live.get("/health")
    body = response.json()
    assert set(body.pop("services", {})) <= {"sessions", "events", "exports", "flags"}
    return response.status_code, body


def structured(street: str, city: str, state: str, zip_code: str) -> dict[str, str]:
    return {"street": street, "city": city, "state": state, "zip": zip_code}


def both_directions(blue: Live, green: Live, tag: str) -> None:
    """Writes by either release are read correctly by the other, with both shapes in step."""
    # blue writes (flat) -> green reads structured, through the sync trigger
    by_blue = create(
        blue,
        {"name": f"Blue {tag}", "email": f"blue-{tag}@example.test",
         "address": "1 Main St, Apt 4B, Springfield, il, 62701-1234"},
    )  # fmt: skip
    expected = structured("1 Main St, Apt 4B", "Springfield", "IL", "62701-1234")
    assert read(green, by_blue["id"])["address"] == expected
    assert read(green, by_blue["id"], "v2")["address"] == expected
    assert (
        read(green, by_blue["id"], "v1")["address"]
        == "1 Main St, Apt 4B, Springfield, IL, 62701-1234"
    )

    # green writes (structured) -> blue reads the composed flat address
    by_green = create(
        green, {"name": f"Green {tag}", "email": f"green-{tag}@example.test", "address": V2}
    )
    assert by_green["address"] == V2
    assert read(blue, by_green["id"])["address"] == V2_FLAT
    assert read(blue, by_green["id"], "v1")["address"] == V2_FLAT

    # green accepts a flat address too, with the same rules
    flat_by_green = create(
        green,
        {"name": f"Flat {tag}", "email": f"flat-{tag}@example.test",
         "address": "  77 Sunset Blvd , Los Angeles , ca , 90028 "},
    )  # fmt: skip
    assert flat_by_green["address"] == structured("77 Sunset Blvd", "Los Angeles", "CA", "90028")
    assert read(blue, flat_by_green["id"])["address"] == "77 Sunset Blvd, Los Angeles, CA, 90028"

    # updates cross over too; a name-only update leaves the address alone
    moved = structured("500 Oak Ave", "Denver", "CO", "80202")
    assert green.put(f"/api/customers/{by_blue['id']}", json={"address": moved}).status_code == 200
    assert read(blue, by_blue["id"])["address"] == "500 Oak Ave, Denver, CO, 80202"
    assert (
        blue.put(
            f"/api/customers/{by_green['id']}", json={"address": "2 Pine St, Austin, TX, 73301"}
        ).status_code
        == 200
    )
    assert read(green, by_green["id"])["address"] == structured(
        "2 Pine St", "Austin", "TX", "73301"
    )
    assert blue.put(f"/api/customers/{by_green['id']}", json={"name": "Renamed"}).status_code == 200
    assert read(green, by_green["id"])["address"] == structured(
        "2 Pine St", "Austin", "TX", "73301"
    )
    assert read(green, by_green["id"])["name"] == "Renamed"

    # deletes are seen by both
    assert green.delete(f"/api/customers/{flat_by_green['id']}").status_code == 204
    assert blue.get(f"/api/customers/{flat_by_green['id']}").status_code == 404


def test_blue_and_green_at_every_schema_state(
    upgrade, alembic_config: Config, start_app, db
) -> None:
    upgrade("0001_customers")
    blue, green = start_app("blue"), start_app("green")

    # -- before expand: blue serves, green is unhealthy and serves nothing ----------------
    assert health(blue) == (
        200,
        {"status": "healthy", "version": "blue", "environment": "test",
         "database": "connected", "schema": "compatible"},
    )  # fmt: skip
    status, body = health(green)
    assert status == 503
    assert body["schema"] == "incompatible"
    assert "missing column customers.street_address" in body["problems"]
    legacy = create(blue, {"name": "Legacy", "email": "legacy@example.test",
                           "address": "742 Evergreen Terrace, Springfield, or, 97477"})  # fmt: skip
    assert green.get(f"/api/customers/{legacy['id']}").status_code == 503
    assert (
        green.post("/api/customers", json={"name": "X", "email": "x@example.test"}).status_code
        == 503
    )

    # -- after expand: both healthy, writes cross over through the sync trigger ------------
    upgrade("expand@head")
    assert health(blue)[0] == 200 and health(green)[0] == 200
    assert read(green, legacy["id"])["address"] is None  # not backfilled yet
    both_directions(blue, green, "expand")

    # -- after migrate: the backfill split the legacy row; everything still crosses over ---
    upgrade("migrate@head")
    assert health(blue)[0] == 200 and health(green)[0] == 200
    assert read(green, legacy["id"])["address"] == structured(
        "742 Evergreen Terrace", "Springfield", "OR", "97477"
    )
    both_directions(blue, green, "migrate")

    # green takes writes, then we roll back to blue: nothing green wrote is lost
    by_green = create(green, {"name": "Before rollback", "email": "rb@example.test", "address": V2})
    green.put(f"/api/customers/{legacy['id']}", json={"email": "legacy-new@example.test"})
    green.server.shutdown()
    everyone = blue.get("/api/customers?limit=100").json()["customers"]
    assert {c["id"]: c["address"] for c in everyone}[by_green["id"]] == V2_FLAT
    assert read(blue, legacy["id"])["email"] == "legacy-new@example.test"
    assert len(everyone) == db("SELECT count(*) AS n FROM customers")[0]["n"]
    green = start_app("green")  # shift forward again
    both_directions(blue, green, "again")

    # -- contract: refused before a stable mark and during the soak -----------------------
    with pytest.raises(ContractRefused, match="no release has been marked stable"):
        upgrade("contract@head")
    mark_release_stable(alembic_config, "green", soak="24h", metadata="app.models_v2:metadata")
    with pytest.raises(ContractRefused, match="soak") as refused:
        upgrade("contract@head")
    assert refused.value.allowed_at is not None
    assert health(blue)[0] == 200  # nothing was dropped
    # The guard reads the database's clock: a new mark with no soak left stands for "soaked".
    mark_release_stable(alembic_config, "green", soak="0s", metadata="app.models_v2:metadata")

    # -- after contract: green healthy with every row intact, blue unhealthy --------------
    before = {c["id"]: c for c in green.get("/api/customers?limit=100").json()["customers"]}
    upgrade("contract@head")
    status, body = health(blue)
    assert status == 503 and body["problems"] == ["missing column customers.address"]
    assert blue.get(f"/api/customers/{legacy['id']}").status_code == 503
    assert health(green)[0] == 200
    after = {c["id"]: c for c in green.get("/api/customers?limit=100").json()["customers"]}
    assert after == before
    assert read(green, by_green["id"], "v1")["address"] == V2_FLAT
    late = create(
        green, {"name": "After", "email": "after@example.test", "address": "1 A St, B, CC, 12345"}
    )
    assert read(green, late["id"], "v1")["address"] == "1 A St, B, CC, 12345"
