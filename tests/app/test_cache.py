"""The Redis read cache: versioned keys, invalidation across releases, and life without Redis."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
import redis

from tests.app.conftest import Live

REDIS_URL = "redis://127.0.0.1:6379/0"
ADDRESS = "1 Main St, Springfield, IL, 62701"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_reachable(), reason="no Redis at 127.0.0.1:6379 (the cache tests need a real one)"
)


@pytest.fixture
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def cache_versions() -> dict[str, str]:
    """Unique cache versions per test, so tests never read each other's keys."""
    tag = uuid.uuid4().hex[:8]
    return {"blue": f"v1-{tag}", "green": f"v2-{tag}"}


@needs_redis
def test_reads_are_cached_under_versioned_keys_and_writes_invalidate_both_releases(
    upgrade, start_app, redis_client: redis.Redis, cache_versions: dict[str, str], db
) -> None:
    upgrade("expand@head")
    peers = {"CACHE_PEER_VERSIONS": set(cache_versions.values())}
    blue: Live = start_app(
        "blue", REDIS_URL=REDIS_URL, CACHE_VERSION=cache_versions["blue"], **peers
    )
    green: Live = start_app(
        "green", REDIS_URL=REDIS_URL, CACHE_VERSION=cache_versions["green"], **peers
    )
    customer = blue.post(
        "/api/customers", json={"name": "Ada", "email": "ada@example.test", "address": ADDRESS}
    ).json()
    blue_key = f"customer:{cache_versions['blue']}:{customer['id']}"
    green_key = f"customer:{cache_versions['green']}:{customer['id']}"
    try:
        assert blue.get(f"/api/customers/{customer['id']}").status_code == 200
        assert green.get(f"/api/customers/{customer['id']}").status_code == 200
        assert json.loads(redis_client.get(blue_key))["address"] == ADDRESS
        assert json.loads(redis_client.get(green_key))["address"]["city"] == "Springfield"
        assert 0 < redis_client.ttl(blue_key) <= 60

        # Served from the cache: a change behind the app's back is not seen ...
        db(
            "UPDATE customers SET name = 'Changed behind the app' WHERE id = :id",
            {"id": customer["id"]},
        )
        assert blue.get(f"/api/customers/{customer['id']}").json()["name"] == "Ada"
        # ... but a write through either release drops both releases' entries.
        moved = {"street": "2 Oak Ave", "city": "Austin", "state": "TX", "zip": "73301"}
        assert (
            green.put(f"/api/customers/{customer['id']}", json={"address": moved}).status_code
            == 200
        )
        assert redis_client.exists(blue_key, green_key) == 0
        assert (
            blue.get(f"/api/customers/{customer['id']}").json()["address"]
            == "2 Oak Ave, Austin, TX, 73301"
        )
        assert blue.delete(f"/api/customers/{customer['id']}").status_code == 204
        assert green.get(f"/api/customers/{customer['id']}").status_code == 404
    finally:
        redis_client.delete(blue_key, green_key)


def test_the_app_works_when_redis_is_down(upgrade, start_app) -> None:
    upgrade("expand@head")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    blue: Live = start_app("blue", REDIS_URL=f"redis://127.0.0.1:{dead_port}/0")
    created = blue.post(
        "/api/customers", json={"name": "Ada", "email": "ada@example.test", "address": ADDRESS}
    )
    assert created.status_code == 201
    customer_id = created.json()["id"]
    for _ in range(3):
        assert blue.get(f"/api/customers/{customer_id}").json()["address"] == ADDRESS
    assert blue.put(f"/api/customers/{customer_id}", json={"name": "Ada L"}).status_code == 200
    assert blue.get(f"/api/customers/{customer_id}").json()["name"] == "Ada L"
    assert blue.delete(f"/api/customers/{customer_id}").status_code == 204
    assert blue.get("/health").status_code == 200
