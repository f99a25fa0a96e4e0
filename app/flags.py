"""Feature flags for the app: AWS AppConfig, or a local JSON file, or none (all off).

``structured_address_v1``: the v1 API (flat ``address``) also returns ``address_parts`` to the
users the flag is rolled out to. One deployment, both code paths; the flag's ``percentage``
picks the users by a stable hash, so blue and green give a user the same answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, session
from flask.typing import ResponseReturnValue

from app import address
from expandcontract.state import AppConfigFlagProvider, FeatureFlags, FileFlagProvider

STRUCTURED_V1 = "structured_address_v1"
FLAGS_KEY = "customers.flags"
bp = Blueprint("flags", __name__)


def init_app(app: Flask) -> None:
    config = app.config
    provider: Any = None
    if config.get("FLAGS_FILE"):
        provider = FileFlagProvider(config["FLAGS_FILE"])
    elif config.get("APPCONFIG_APPLICATION"):
        provider = AppConfigFlagProvider(
            config["APPCONFIG_APPLICATION"],
            config["APPCONFIG_ENVIRONMENT"],
            config["APPCONFIG_PROFILE"],
            endpoint_url=config.get("AWS_ENDPOINT_URL") or None,
        )
    app.extensions[FLAGS_KEY] = (
        None
        if provider is None
        else FeatureFlags(provider, refresh_seconds=config["FLAGS_REFRESH_SECONDS"])
    )
    app.register_blueprint(bp)


def flags() -> FeatureFlags | None:
    return current_app.extensions[FLAGS_KEY]  # type: ignore[no-any-return]


def current_user() -> str | None:
    """The signed-in user, else the ``X-User-Id`` header (a caller known upstream)."""
    return session.get("user") or request.headers.get("X-User-Id") or None


def enabled(flag: str) -> bool:
    client = flags()
    return client is not None and client.enabled(flag, current_user())


def decorate_v1(customer: dict[str, Any]) -> dict[str, Any]:
    """The v1 body, with ``address_parts`` when the flag is on for this user."""
    if not enabled(STRUCTURED_V1):
        return customer
    parts, _ = address.parse(customer.get("address"))
    structured = None if parts is None else {
        "street": parts.street, "city": parts.city, "state": parts.state, "zip": parts.zip
    }  # fmt: skip
    return {**customer, "address_parts": structured}


@bp.get("/api/flags")
def list_flags() -> ResponseReturnValue:
    """Every flag's value for the current user (``?user=`` overrides, for support)."""
    client = flags()
    user = request.args.get("user") or current_user()
    names = sorted(client.flags()) if client else []
    return jsonify(
        {
            "user": user,
            "flags": {name: client.enabled(name, user) for name in names} if client else {},
        }
    )


def flag_stats() -> dict[str, Any]:
    client = flags()
    if client is None:
        return {"source": "none"}
    s = client.stats
    return {
        "source": type(client.provider).__name__,
        "documents_loaded": s.documents_loaded,
        "invalid_documents": s.invalid_documents,
        "fetch_errors": s.fetch_errors,
        "last_error": s.last_error,
    }
