"""Optional Redis read cache: ``customer:<cache version>:<id>`` holds a release's JSON of a row.

Blue and green cache under different versions because they render a customer differently. A
write by either release changes what *both* would render (the sync trigger keeps the columns in
step), so every write deletes the key of every known cache version, after the commit.

Redis is an optimisation only: without ``REDIS_URL``, or when Redis stops answering, the app
serves from the database and rechecks Redis after a short back-off.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from flask import Flask, current_app

from app.config import DEFAULT_CACHE_VERSIONS

log = logging.getLogger("customers")

CACHE_KEY = "customers.cache"
RETRY_AFTER_SECONDS = 5.0


class CustomerCache:
    """A fail-open cache: every Redis error is logged once per outage and treated as a miss."""

    def __init__(
        self,
        client: redis.Redis | None,
        version: str,
        ttl: int,
        versions: set[str],
        prefix: str = "",
    ) -> None:
        self.client = client
        self.version = version
        self.ttl = ttl
        self.versions = sorted(versions | {version})
        self.prefix = prefix  # several apps (or rehearsals) can share one Redis
        self._down_until = 0.0

    def key(self, customer_id: int, version: str | None = None) -> str:
        return f"{self.prefix}customer:{version or self.version}:{customer_id}"

    def get(self, customer_id: int) -> dict[str, Any] | None:
        raw = self._call("get", self.key(customer_id))
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None  # a corrupt entry is a miss; the next write or the TTL replaces it

    def put(self, customer_id: int, customer: dict[str, Any]) -> None:
        self._call("set", self.key(customer_id), json.dumps(customer), ex=self.ttl)

    def invalidate(self, customer_id: int) -> None:
        self._call("delete", *(self.key(customer_id, v) for v in self.versions))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.client is None or time.monotonic() < self._down_until:
            return None
        try:
            result = getattr(self.client, method)(*args, **kwargs)
        except redis.RedisError as err:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            log.warning(
                "redis unavailable, serving without cache for %ss: %s", RETRY_AFTER_SECONDS, err
            )
            return None
        return result


def init_app(app: Flask) -> None:
    """Attach the cache (a disabled one when ``REDIS_URL`` is not set).

    ``CACHE_PEER_VERSIONS`` lists every cache version whose entries a write must drop (default:
    blue's and green's).
    """
    url = app.config.get("REDIS_URL")
    client = None
    if url:
        # Short timeouts: a hung Redis must cost a request milliseconds, not seconds.
        client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    app.extensions[CACHE_KEY] = CustomerCache(
        client,
        app.config["CACHE_VERSION"],
        app.config["CACHE_TTL_SECONDS"],
        set(app.config.get("CACHE_PEER_VERSIONS") or DEFAULT_CACHE_VERSIONS.values()),
        app.config.get("STATE_KEY_PREFIX", ""),
    )


def cache() -> CustomerCache:
    return current_app.extensions[CACHE_KEY]
