"""Exports in S3 (moto's server): each release writes its own format under its version prefix,
and reads the other's; an unknown format is a 422, a missing export a 404, S3 down a 503."""

from __future__ import annotations

import json

ADDRESS = "1 Main St, Springfield, IL, 62701"
STRUCTURED = {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}


def _seed(live) -> None:
    for i, address in enumerate([ADDRESS, None, "no commas here"]):
        body = {"name": f"C{i}", "email": f"c{i}@e.com", "address": address}
        assert live.post("/api/customers", json=body).status_code == 201


def test_exports_are_read_across_releases_both_ways(upgrade, state_app, state_services):
    upgrade("expand@head")
    blue = state_app("blue")
    _seed(blue)
    upgrade("migrate@head")
    green = state_app("green")
    s3 = state_services.client("s3")
    assert s3.get_bucket_versioning(Bucket=state_services.bucket)["Status"] == "Enabled"

    made_by_blue = blue.post("/api/exports?limit=10").json()
    made_by_green = green.post("/api/exports?limit=10").json()
    assert made_by_blue["key"].startswith("v1/exports/")
    assert made_by_green["key"].startswith("v2/exports/")
    head = s3.head_object(Bucket=state_services.bucket, Key=made_by_green["key"])
    assert head["Metadata"] == {"schema-version": "v2", "producer": "green"}

    read = green.get(f"/api/exports/{made_by_blue['id']}")
    assert read.status_code == 200
    assert read.json()["stored_as"] == "v1"
    addresses = [c["address"] for c in read.json()["customers"]]
    assert addresses == [STRUCTURED, None, None]
    assert read.json()["customers"][2]["address_line"] == "no commas here"  # kept, not lost

    # After a rollback blue reads green's export in its own flat shape.
    back = blue.get(f"/api/exports/{made_by_green['id']}")
    assert back.status_code == 200
    assert back.json()["stored_as"] == "v2"
    assert [c["address"] for c in back.json()["customers"]][0] == ADDRESS
    assert blue.get(f"/api/exports/{made_by_blue['id']}").json()["stored_as"] == "v1"


def test_unknown_formats_missing_exports_and_bad_ids(upgrade, state_app, state_services):
    upgrade("expand@head")
    blue = state_app("blue")
    s3 = state_services.client("s3")
    for name, body in {
        "aaa1": b"\x00\x01 not json",
        "aaa2": b'{"customers": [{"id": "x"}]}',
    }.items():
        s3.put_object(Bucket=state_services.bucket, Key=f"v1/exports/{name}.json", Body=body)
        response = blue.get(f"/api/exports/{name}")
        assert response.status_code == 422
        assert response.json()["reason"] == "unknown_format"
    assert blue.get("/api/exports/doesnotexist").status_code == 404
    assert blue.get("/api/exports/bad..id").status_code in (400, 404)
    assert blue.post("/api/exports?limit=0").status_code == 400
    assert blue.post("/api/exports?limit=x").status_code == 400
    assert blue.get("/api/state/stats").json()["exports"]["unreadable"] == 2


def test_naive_unversioned_exports_are_unreadable_across_releases(upgrade, state_app):
    upgrade("expand@head")
    upgrade("migrate@head")
    blue = state_app("blue", STATE_FORMAT="unversioned")
    green = state_app("green", STATE_FORMAT="unversioned")
    _seed(blue)
    made = blue.post("/api/exports").json()
    assert made["key"] == f"exports/{made['id']}.json"
    assert green.get(f"/api/exports/{made['id']}").status_code == 422


def test_exports_answer_503_when_storage_is_down(upgrade, state_app, unused_port):
    upgrade("expand@head")
    blue = state_app("blue", AWS_ENDPOINT_URL=f"http://127.0.0.1:{unused_port}")
    assert blue.post("/api/exports").status_code == 503
    assert blue.get("/api/exports/abc").status_code == 503
    health = blue.get("/health")
    assert health.status_code == 200
    assert health.json()["services"]["exports"] == "unavailable"
    assert health.json()["services"]["events"] == "unavailable"
    assert json.dumps(health.json())
