"""The customers API over real HTTP: status codes, validation, round trips (blue on the v1 schema)."""

from __future__ import annotations

import pytest

from tests.app.conftest import Live

ADA = {
    "name": "Ada Lovelace",
    "email": "ada@example.test",
    "address": "1 Main St, Springfield, IL, 62701",
}


@pytest.fixture
def api(upgrade, blue: Live) -> Live:
    upgrade("expand@head")
    return blue


def test_create_read_update_delete(api: Live) -> None:
    created = api.post("/api/customers", json=ADA)
    assert created.status_code == 201
    customer = created.json()
    assert {k: customer[k] for k in ADA} == ADA
    assert created.headers["Location"] == f"/api/customers/{customer['id']}"

    assert api.get(f"/api/customers/{customer['id']}").json() == customer
    assert api.get(f"/api/v1/customers/{customer['id']}").json() == customer

    updated = api.put(f"/api/customers/{customer['id']}", json={"name": "Ada King"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Ada King"
    assert updated.json()["email"] == ADA["email"]  # partial update keeps the rest
    assert updated.json()["updated_at"] >= customer["updated_at"]

    assert api.delete(f"/api/customers/{customer['id']}").status_code == 204
    assert api.get(f"/api/customers/{customer['id']}").status_code == 404
    assert api.delete(f"/api/customers/{customer['id']}").status_code == 404


def test_duplicate_email_is_409_case_insensitively(api: Live) -> None:
    assert api.post("/api/customers", json=ADA).status_code == 201
    again = api.post("/api/customers", json={**ADA, "email": "ADA@Example.TEST"})
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    other = api.post("/api/customers", json={**ADA, "email": "other@example.test"}).json()
    taken = api.put(f"/api/customers/{other['id']}", json={"email": ADA["email"]})
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.test"}, "name"),
        ({"name": "A"}, "email"),
        ({"name": "", "email": "a@example.test"}, "name"),
        ({"name": "   ", "email": "a@example.test"}, "name"),
        ({"name": 42, "email": "a@example.test"}, "name"),
        ({"name": ["A"], "email": "a@example.test"}, "name"),
        ({"name": "x" * 256, "email": "a@example.test"}, "name"),
        ({"name": "A\x00B", "email": "a@example.test"}, "name"),
        ({"name": "A\ud800", "email": "a@example.test"}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": "a@b"}, "email"),
        ({"name": "A", "email": "a b@example.test"}, "email"),
        ({"name": "A", "email": "\u0130" * 247 + "@a.test"}, "email"),  # 254, but 501 lower-cased
        ({"name": "A", "email": "a@example.test", "address": 12}, "address"),
        ({"name": "A", "email": "a@example.test", "address": "x" * 501}, "address"),
        ({"name": "A", "email": "a@example.test", "phone": "555"}, "phone"),
    ],
)
def test_bad_input_is_400_naming_the_field(api: Live, body: dict, field: str) -> None:
    response = api.post("/api/customers", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ("{not json", {"Content-Type": "application/json"}),
        ("[1, 2]", {"Content-Type": "application/json"}),
        ('"a string"', {"Content-Type": "application/json"}),
        ("[" * 5000 + "]" * 5000, {"Content-Type": "application/json"}),
        ("name=A", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("", {}),
    ],
)
def test_non_object_bodies_are_400(api: Live, data: str, headers: dict) -> None:
    for response in (
        api.post("/api/customers", data=data, headers=headers),
        api.put("/api/customers/1", data=data, headers=headers),
    ):
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/json"


def test_oversized_body_is_413_json(api: Live) -> None:
    response = api.post("/api/customers", json={"name": "A" * 70_000, "email": "a@example.test"})
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"


def test_empty_update_is_400_and_unknown_ids_404(api: Live) -> None:
    customer = api.post("/api/customers", json=ADA).json()
    assert api.put(f"/api/customers/{customer['id']}", json={}).status_code == 400
    for path in ("/api/customers/0", "/api/customers/99999", "/api/customers/99999999999999"):
        assert api.get(path).status_code == 404
        assert api.put(path, json={"name": "B"}).status_code == 404
        assert api.delete(path).status_code == 404
    assert api.get("/api/customers/abc").status_code == 404
    assert api.get("/api/customers/-1").status_code == 404
    assert api.get("/api/v2/customers/1").status_code == 404  # green only


def test_pagination(api: Live) -> None:
    ids = [
        api.post("/api/customers", json={"name": f"C{i}", "email": f"c{i}@example.test"}).json()[
            "id"
        ]
        for i in range(5)
    ]
    first = api.get("/api/customers?limit=2").json()
    assert [c["id"] for c in first["customers"]] == ids[:2]
    assert first["next_offset"] == 2
    last = api.get("/api/customers?limit=2&offset=4").json()
    assert [c["id"] for c in last["customers"]] == ids[4:]
    assert last["next_offset"] is None
    for bad in ("limit=0", "limit=101", "limit=x", "offset=-1", "limit=1e3", "offset=" + "9" * 40):
        response = api.get(f"/api/customers?{bad}")
        assert response.status_code == 400, bad


@pytest.mark.parametrize(
    "name",
    [
        "Robert'); DROP TABLE customers;--",
        "' OR '1'='1",
        "1; DELETE FROM customers WHERE 1=1",
        "$$; SELECT pg_sleep(10); $$",
        "\\'; --",
        "José Núñez",
        "Zoë Søren",
        "山田 太郎",
        "Ωμέγα Δέλτα",
        "مريم",
        "🚀 Rocket 👩‍🚀",
        'O\'Brien "Quoted" %s %(x)s {name}',
    ],
)
def test_hostile_and_unicode_names_round_trip(api: Live, db, name: str) -> None:
    address = f"{name}, Springfield, IL, 62701"
    created = api.post(
        "/api/customers", json={"name": name, "email": "x@example.test", "address": address}
    )
    assert created.status_code == 201
    fetched = api.get(f"/api/customers/{created.json()['id']}").json()
    assert fetched["name"] == name
    assert fetched["address"] == address
    assert db("SELECT count(*) AS n FROM customers")[0]["n"] == 1  # the table is still there


def test_response_headers_carry_version_and_request_id(api: Live) -> None:
    response = api.get("/health", headers={"X-Request-ID": "trace-123"})
    assert response.headers["X-Request-ID"] == "trace-123"
    assert response.headers["X-App-Version"] == "blue"
    generated = api.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["X-Request-ID"] not in ("", "bad id with spaces")


def test_unknown_route_and_method_are_json(api: Live) -> None:
    missing = api.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = api.delete("/api/customers")
    assert wrong.status_code == 405
    assert "POST" in wrong.headers["Allow"]
    assert wrong.json()["error"] == "method_not_allowed"


def test_no_request_leaves_a_transaction_open(api: Live, db) -> None:
    """An idle-in-transaction connection would make the next ALTER TABLE queue behind it."""
    customer = api.post("/api/customers", json=ADA).json()
    api.post("/api/customers", json=ADA)  # 409 after a failed INSERT
    api.post("/api/customers", json={"name": ""})  # 400
    api.get(f"/api/customers/{customer['id']}")
    api.get("/api/customers")
    api.get("/api/customers/424242")  # 404 after a SELECT
    api.put(f"/api/customers/{customer['id']}", json={"name": "B"})
    api.get("/health")
    sessions = db(
        "SELECT state, count(*) AS n FROM pg_stat_activity "
        "WHERE application_name = 'customers-blue' GROUP BY state"
    )
    assert sessions, "the app keeps pooled connections"
    assert {row["state"] for row in sessions} == {"idle"}
    # ... so DDL gets its lock at once.
    db("SET lock_timeout = '500ms'; ALTER TABLE customers ADD COLUMN probe integer")
