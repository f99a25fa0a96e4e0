"""Server-side sessions (Flask-Session) shared by blue and green, and a sign-in flow.

With ``SESSION_STORE=redis`` (ElastiCache in production) a user signed in on blue is still
signed in when the router sends them to green, and after a rollback. ``SESSION_STORE=memory``
keeps sessions in the process (the naive way: every process, release and restart forgets them).

A session carries ``v`` (its schema version). A session written by a newer release, or a blob
this release cannot decode, is dropped and counted (the user signs in again), never a 500; a
Redis outage leaves the app serving without sessions.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import msgspec
import redis
from cachelib import SimpleCache
from flask import Blueprint, Flask, current_app, jsonify, request, session
from flask.typing import ResponseReturnValue
from flask_session import Session
from flask_session.redis import RedisSessionInterface

from app.errors import bad_request

log = logging.getLogger("customers.sessions")

SESSION_VERSION = 1
RECENT_LIMIT = 10
STATS_KEY = "customers.session_stats"

bp = Blueprint("sessions", __name__)


class SharedRedisSessions(RedisSessionInterface):
    """Flask-Session's Redis store, made fail-safe: JSON only (never its pickle fallback), an
    undecodable blob is a missing session, and Redis errors are a missing session too."""

    def __init__(self, app: Flask, client: redis.Redis, key_prefix: str) -> None:
        super().__init__(app, client, key_prefix, serialization_format="json")
        self._decoder = msgspec.json.Decoder()

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        try:
            raw = self.client.get(store_id)
        except redis.RedisError as err:
            _stats()["store_errors"] += 1
            log.warning("session store unavailable: %s", err)
            return None
        if not raw:
            return None
        try:
            data = self._decoder.decode(raw)
        except msgspec.DecodeError as err:
            _stats()["unreadable"] += 1
            log.warning("session %s is not readable JSON, starting a new one: %s", store_id, err)
            return None
        if not isinstance(data, dict):
            _stats()["unreadable"] += 1
            return None
        return data

    def _upsert_session(self, session_lifetime: Any, session: Any, store_id: str) -> None:
        try:
            super()._upsert_session(session_lifetime, session, store_id)
        except redis.RedisError as err:
            _stats()["store_errors"] += 1
            log.warning("session not saved, store unavailable: %s", err)

    def _delete_session(self, store_id: str) -> None:
        try:
            super()._delete_session(store_id)
        except redis.RedisError as err:
            _stats()["store_errors"] += 1
            log.warning("session not deleted, store unavailable: %s", err)


def init_app(app: Flask) -> None:
    app.extensions[STATS_KEY] = Counter()
    # A session outlives a release switch, not a working day; the store's TTL follows this.
    app.permanent_session_lifetime = timedelta(seconds=app.config["SESSION_LIFETIME_SECONDS"])
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    store = app.config["SESSION_STORE"]
    if store == "redis":
        client = redis.Redis.from_url(
            app.config["SESSION_REDIS_URL"], socket_connect_timeout=0.5, socket_timeout=0.5
        )
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
        Session(app)  # registers Flask-Session's defaults; the interface is replaced below
        app.session_interface = SharedRedisSessions(
            app, client, app.config["STATE_KEY_PREFIX"] + "session:"
        )
    else:
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache())
        Session(app)
    app.before_request(_drop_future_sessions)
    app.after_request(_remember_viewed)


def _stats() -> Counter[str]:
    return current_app.extensions[STATS_KEY]  # type: ignore[no-any-return]


def session_stats() -> dict[str, int]:
    return dict(_stats())


def _drop_future_sessions() -> None:
    version = session.get("v")
    if version is None or (isinstance(version, int) and version <= SESSION_VERSION):
        return
    _stats()["future_version"] += 1
    log.warning("session of version %r (newer than %s) dropped", version, SESSION_VERSION)
    session.clear()


def _remember_viewed(response: Any) -> Any:
    """A signed-in user's successful customer reads feed "recently viewed"."""
    if request.method != "GET" or response.status_code != 200 or "user" not in session:
        return response
    view_args = request.view_args or {}
    customer_id = view_args.get("customer_id")
    if customer_id is None or request.blueprint != "customers":
        return response
    recent = [c for c in session.get("recent", []) if c != customer_id]
    session["recent"] = [customer_id, *recent][:RECENT_LIMIT]
    return response


@bp.post("/api/session")
def sign_in() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    user = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user, str) or not 1 <= len(user.strip()) <= 100:
        raise bad_request('give {"user": "name"} (1 to 100 characters)', {"user": "required"})
    session.clear()
    session.update(v=SESSION_VERSION, user=user.strip(), recent=[])
    return jsonify(_body()), 201


@bp.get("/api/session")
def whoami() -> ResponseReturnValue:
    if "user" not in session:
        return jsonify({"error": "not signed in"}), 401
    return jsonify(_body())


@bp.delete("/api/session")
def sign_out() -> ResponseReturnValue:
    session.clear()
    return "", 204


def _body() -> dict[str, Any]:
    return {
        "user": session["user"],
        "recently_viewed": list(session.get("recent", [])),
        "release": current_app.config["APP_VERSION"],
    }
