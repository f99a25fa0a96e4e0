"""Sessions in Redis, shared by blue and green: a user stays signed in across a shift and a
rollback; a session blob from a newer release or in an unknown encoding is dropped, not a 500."""

from __future__ import annotations

import pickle

import redis
import requests

ADDRESS = "1 Main St, Springfield, IL, 62701"


def _customer(live, email: str) -> int:
    response = live.post("/api/customers", json={"name": "Ada", "email": email, "address": ADDRESS})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_session_survives_shift_and_rollback_both_ways(upgrade, state_app) -> None:
    upgrade("expand@head")
    upgrade("migrate@head")
    blue, green = state_app("blue"), state_app("green")
    first, second = _customer(blue, "a@example.com"), _customer(blue, "b@example.com")

    user = requests.Session()
    assert user.post(blue.url + "/api/session", json={"user": "alice"}).status_code == 201
    assert user.get(f"{blue.url}/api/customers/{first}").status_code == 200
    # The router moves alice to green: still signed in, with what she viewed on blue.
    on_green = user.get(green.url + "/api/session")
    assert on_green.status_code == 200
    assert on_green.json() == {"user": "alice", "recently_viewed": [first], "release": "green"}
    assert user.get(f"{green.url}/api/customers/{second}").status_code == 200
    # Rollback: blue sees what she did on green.
    back = user.get(blue.url + "/api/session").json()
    assert back["recently_viewed"] == [second, first]

    # The other direction: signed in on green, continuing on blue.
    other = requests.Session()
    assert other.post(green.url + "/api/session", json={"user": "bob"}).status_code == 201
    assert other.get(blue.url + "/api/session").json()["user"] == "bob"
    assert other.delete(blue.url + "/api/session").status_code == 204
    assert other.get(green.url + "/api/session").status_code == 401


def test_in_process_sessions_are_lost_on_a_switch(upgrade, state_app) -> None:
    """The naive way, to show what the shared store prevents."""
    upgrade("expand@head")
    blue, green = (
        state_app("blue", SESSION_STORE="memory"),
        state_app("green", SESSION_STORE="memory"),
    )
    user = requests.Session()
    assert user.post(blue.url + "/api/session", json={"user": "alice"}).status_code == 201
    assert user.get(blue.url + "/api/session").status_code == 200
    assert user.get(green.url + "/api/session").status_code == 401


def test_future_and_undecodable_session_blobs_are_dropped(
    upgrade, state_app, state_services
) -> None:
    upgrade("expand@head")
    blue = state_app("blue")
    store = redis.Redis.from_url(state_services.redis_url)
    prefix = blue.app.config["STATE_KEY_PREFIX"] + "session:"
    user = requests.Session()
    user.post(blue.url + "/api/session", json={"user": "alice"})
    sid = user.cookies["session"]

    store.set(prefix + sid, b'{"v": 99, "user": "alice", "recent": [], "cart": {"new": 1}}')
    response = user.get(blue.url + "/api/session")
    assert response.status_code == 401  # signed out, not a 500

    # A pickle is never unpickled (Flask-Session's fallback would): a bad blob is just gone.
    class Boom:
        def __reduce__(self):  # pragma: no cover - must never run
            return (exec, ("raise SystemExit('unpickled')",))

    user.post(blue.url + "/api/session", json={"user": "alice"})
    store.set(prefix + user.cookies["session"], pickle.dumps(Boom()))
    assert user.get(blue.url + "/api/session").status_code == 401

    stats = requests.get(blue.url + "/api/state/stats", timeout=5).json()["sessions"]
    assert stats["future_version"] == 1
    assert stats["unreadable"] == 1


def test_the_app_serves_when_the_session_store_is_down(upgrade, state_app, unused_port) -> None:
    upgrade("expand@head")
    blue = state_app("blue", SESSION_REDIS_URL=f"redis://127.0.0.1:{unused_port}/0")
    user = requests.Session()
    assert user.post(blue.url + "/api/session", json={"user": "alice"}).status_code == 201
    assert user.get(blue.url + "/api/session").status_code == 401  # nothing could be kept
    health = blue.get("/health")
    assert health.status_code == 200
    assert health.json()["services"]["sessions"] == "unavailable"
    assert blue.post("/api/customers", json={"name": "A", "email": "a@e.com"}).status_code == 201


def test_sign_in_needs_a_user(upgrade, state_app) -> None:
    upgrade("expand@head")
    blue = state_app("blue")
    for body in (None, {}, {"user": ""}, {"user": 7}, {"user": "x" * 101}):
        assert blue.post("/api/session", json=body).status_code == 400
