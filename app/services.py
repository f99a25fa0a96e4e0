"""Wiring of the state beyond the database: sessions, customer events, exports, flags.

Each service is optional and fails open: the app serves without it, ``/health`` names its
state under ``services`` (``off``, ``ok``, ``unavailable``) without turning unhealthy, and
``GET /api/state/stats`` counts what was published, dropped or unreadable in this process.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app import exports, flags, sessions
from app.events import Publisher, sqs_client

PUBLISHER_KEY = "customers.publisher"
HEALTH_KEY = "customers.services_health"
HEALTH_TTL = 5.0
bp = Blueprint("state", __name__)


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(sessions.bp)
    exports.init_app(app)
    flags.init_app(app)
    publisher = None
    if app.config.get("EVENTS_QUEUE_URL"):
        publisher = Publisher(
            app.config["APP_VERSION"],
            app.config["EVENTS_QUEUE_URL"],
            sqs_client(app.config.get("AWS_ENDPOINT_URL")),
            versioned=app.config["STATE_FORMAT"] == "versioned",
        )
    app.extensions[PUBLISHER_KEY] = publisher
    app.extensions[HEALTH_KEY] = (0.0, {})
    app.after_request(_publish_write)
    app.register_blueprint(bp)


def publisher() -> Publisher | None:
    return current_app.extensions[PUBLISHER_KEY]  # type: ignore[no-any-return]


def _publish_write(response: Any) -> Any:
    """A committed create (201) or update (200) publishes its event, in this release's shape."""
    events = publisher()
    if events is None or request.blueprint != "customers":
        return response
    kind = {("POST", 201): "customer.created", ("PUT", 200): "customer.updated"}.get(
        (request.method, response.status_code)
    )
    body = response.get_json(silent=True) if kind else None
    if kind and isinstance(body, dict):
        events.publish(kind, body)
    return response


@bp.get("/api/state/stats")
def stats() -> ResponseReturnValue:
    """This process's counters (one gunicorn worker's; sum them across workers)."""
    events = publisher()
    return jsonify(
        {
            "release": current_app.config["APP_VERSION"],
            "sessions": sessions.session_stats(),
            "events": None if events is None else vars(events.stats),
            "exports": exports.export_stats(),
            "flags": flags.flag_stats(),
        }
    )


def health() -> dict[str, str]:
    """One word per optional service, checked at most every few seconds."""
    checked_at, cached = current_app.extensions[HEALTH_KEY]
    if time.monotonic() - checked_at < HEALTH_TTL:
        return cached  # type: ignore[no-any-return]
    config = current_app.config
    result = {
        "sessions": _probe(config["SESSION_STORE"] == "redis", _ping_sessions, "in-process"),
        "events": _probe(bool(config.get("EVENTS_QUEUE_URL")), _ping_queue),
        "exports": _probe(bool(config.get("EXPORTS_BUCKET")), _ping_bucket),
        "flags": _flags_state(),
    }
    current_app.extensions[HEALTH_KEY] = (time.monotonic(), result)
    return result


def _probe(configured: bool, check: Any, off: str = "off") -> str:
    if not configured:
        return off
    try:
        check()
    except Exception:  # noqa: BLE001 - any failure means degraded, not unhealthy
        return "unavailable"
    return "ok"


def _ping_sessions() -> None:
    current_app.session_interface.client.ping()  # type: ignore[attr-defined]


def _ping_queue() -> None:
    events = publisher()
    assert events is not None
    events.client.get_queue_attributes(QueueUrl=events.queue_url, AttributeNames=["QueueArn"])


def _ping_bucket() -> None:
    current_app.extensions[exports.CLIENT_KEY].head_bucket(
        Bucket=current_app.config["EXPORTS_BUCKET"]
    )


def _flags_state() -> str:
    client = flags.flags()
    if client is None:
        return "off"
    client.flags()
    return "unavailable" if client.stats.documents_loaded == 0 else "ok"
