"""The ``structured_address_v1`` flag from a local file (AppConfig's document shape): the same
users get ``address_parts`` from blue and green; a bad document keeps the last good one."""

from __future__ import annotations

import json

from expandcontract.state import rollout_bucket

ADDRESS = "1 Main St, Springfield, IL, 62701"


def test_a_percentage_rollout_gives_each_user_one_answer_on_both_releases(
    upgrade, state_app, tmp_path
):
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"structured_address_v1": {"enabled": True, "percentage": 30}}))
    upgrade("expand@head")
    upgrade("migrate@head")
    blue = state_app("blue", FLAGS_FILE=str(flags))
    green = state_app("green", FLAGS_FILE=str(flags))
    customer = blue.post(
        "/api/customers", json={"name": "A", "email": "a@e.com", "address": ADDRESS}
    )
    path = f"/api/v1/customers/{customer.json()['id']}"

    users = [f"user-{i}" for i in range(60)]
    expected = {u: rollout_bucket("structured_address_v1", u) < 30 for u in users}
    assert 5 < sum(expected.values()) < 35  # a share, not all or nothing
    for live in (blue, green):
        for user in users:
            body = live.get(path, headers={"X-User-Id": user}).json()
            assert ("address_parts" in body) is expected[user], (
                live.app.config["APP_VERSION"],
                user,
            )
            assert body["address"] == ADDRESS  # the v1 contract is unchanged for everyone
        assert live.get("/api/flags?user=user-1").json()["flags"] == {
            "structured_address_v1": expected["user-1"]
        }


def test_an_invalid_flag_document_keeps_the_last_good_one(upgrade, state_app, tmp_path):
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"structured_address_v1": {"enabled": True}}))
    upgrade("expand@head")
    blue = state_app("blue", FLAGS_FILE=str(flags))
    assert blue.get("/api/flags?user=u").json()["flags"] == {"structured_address_v1": True}

    flags.write_text(json.dumps({"structured_address_v1": {"enabled": "yes", "percentage": 300}}))
    assert blue.get("/api/flags?user=u").json()["flags"] == {"structured_address_v1": True}
    flags.write_text("{not json")
    assert blue.get("/api/flags?user=u").status_code == 200
    stats = blue.get("/api/state/stats").json()["flags"]
    assert stats["invalid_documents"] == 2
    assert stats["documents_loaded"] == 1
    assert blue.get("/health").json()["services"]["flags"] == "ok"
