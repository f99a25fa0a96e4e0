"""Green never hides an address that exists: until the contract it reads the old column.

A row the backfill has not reached yet, and a row whose address the parser rejects, are
shown by green with their address (parsed on the fly, or the original with the parts that
could not be parsed named); after the contract green keeps serving, without the old column.
"""

from __future__ import annotations

from tests.app.test_compat_matrix import create, read

INFINITE_LOOP = "1 Infinite Loop, Cupertino, California, 95014"


def test_green_shows_unbackfilled_and_unparseable_addresses(upgrade, start_app, db) -> None:
    upgrade("0001_customers")
    blue = start_app("blue")
    # Written before the expand: nothing splits these until the backfill runs.
    waiting = create(blue, {"name": "Ada", "email": "ada@example.test",
                            "address": "12 Oak Ave, Apt 4, Denver, co, 80202"})  # fmt: skip
    rejected = create(blue, {"name": "Steve", "email": "steve@example.test",
                             "address": INFINITE_LOOP})  # fmt: skip
    upgrade("expand@head")
    green = start_app("green")

    # Not backfilled yet: green parses the original on the fly, v1 shows it as written.
    assert db("SELECT street_address FROM customers WHERE id = :i", {"i": waiting["id"]}) == [
        {"street_address": None}
    ]
    assert read(green, waiting["id"])["address"] == {
        "street": "12 Oak Ave, Apt 4", "city": "Denver", "state": "CO", "zip": "80202",
    }  # fmt: skip
    assert read(green, waiting["id"], "v2")["address"]["city"] == "Denver"

    # The parser rejects it: the original and which part failed, never null.
    shown = read(green, rejected["id"])["address"]
    assert shown["unparsed"] == INFINITE_LOOP
    assert shown["invalid"] == ["state"]
    assert shown["state"] is None and shown["city"] == "Cupertino" and shown["zip"] == "95014"
    assert "California" in shown["reason"]
    assert read(green, rejected["id"], "v1")["address"] == INFINITE_LOOP
    listed = green.get("/api/customers", params={"limit": 100}).json()["customers"]
    assert {c["id"]: c["address"] is not None for c in listed} == {
        waiting["id"]: True, rejected["id"]: True,
    }  # fmt: skip
    # An update through green that does not touch the address keeps showing it.
    renamed = green.put(f"/api/customers/{rejected['id']}", json={"name": "Steve J"})
    assert renamed.status_code == 200 and renamed.json()["address"]["unparsed"] == INFINITE_LOOP

    # After the contract the old column is gone: green keeps answering 200 (not 503).
    # (The guarded contract is the matrix test's subject; here only its effect on green.)
    upgrade("migrate@head")
    # By hand, so through the server-side guard's break glass (recorded in the ledger).
    db(
        "DO $$ DECLARE t record; BEGIN "
        "PERFORM expandcontract.approve_session('test: the contract by hand'); "
        "FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = "
        "'customers'::regclass AND NOT tgisinternal LOOP EXECUTE format('DROP TRIGGER %I ON "
        "customers', t.tgname); END LOOP; "
        "ALTER TABLE customers DROP COLUMN address; END $$",
        None,
    )
    for _ in range(3):  # each worker notices once
        after = green.get(f"/api/customers/{waiting['id']}")
        assert after.status_code == 200, after.text
        assert after.json()["address"]["city"] == "Denver"
    assert green.get(f"/api/customers/{rejected['id']}").status_code == 200
    created = green.post("/api/customers", json={"name": "New", "email": "new@example.test",
                                                 "address": "5 Elm St, Boise, ID, 83702"})  # fmt: skip
    assert created.status_code == 201, created.text
