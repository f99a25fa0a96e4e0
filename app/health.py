"""``GET /health``: can this release serve traffic on the live schema right now?

The answer comes from :func:`expandcontract.check_compatibility` with this release's models, so
green reports 503 before the expand (its columns are missing) and blue reports 503 after the
contract (``address`` is gone). A load balancer then routes only to instances that can serve.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

import expandcontract
from app.db import get_connection
from app.errors import first_line
from app.releases import release_for
from app.services import health as services_health

bp = Blueprint("health", __name__)
log = logging.getLogger("customers")


@bp.get("/health")
def health() -> ResponseReturnValue:
    config = current_app.config
    payload: dict[str, Any] = {
        "status": "healthy",
        "version": config["APP_VERSION"],
        "environment": config["ENVIRONMENT"],
        "database": "connected",
        "schema": "compatible",
        "services": services_health(),  # optional: degraded, never unhealthy
    }
    try:
        connection = get_connection()
        report = expandcontract.check_compatibility(
            connection, release_for(config["APP_VERSION"]).metadata
        )
        connection.rollback()
    except sa.exc.DBAPIError as err:
        log.error("health check: database unavailable: %s", first_line(err))
        payload.update(status="unhealthy", database="unavailable", schema="unknown")
        return jsonify(payload), 503
    if not report.compatible:
        payload.update(status="unhealthy", schema="incompatible", problems=report.problems)
        return jsonify(payload), 503
    return jsonify(payload)
