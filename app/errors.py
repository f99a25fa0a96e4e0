"""JSON errors for every failure: bad input is a 400, a missing row a 404, a duplicate a 409.

A database that is down, or a schema this release cannot serve (blue after the contract), is a
503 so a load balancer routes around the instance; anything else unexpected is a JSON 500 that
carries the request id for the logs.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, jsonify
from flask.typing import ResponseReturnValue
from psycopg import errors as pg_errors
from werkzeug.exceptions import HTTPException

log = logging.getLogger("customers")


class ApiError(Exception):
    """An error answered as ``{"error": code, "message": ..., "fields": {...}}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def bad_request(message: str, fields: dict[str, str] | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, fields)


def not_found(message: str = "customer not found") -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"error": code, "message": message}
    if fields:
        payload["fields"] = fields
    request_id = g.get("request_id")
    if request_id:
        payload["request_id"] = request_id
    return payload


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> ResponseReturnValue:
        return jsonify(body(err.code, err.message, err.fields)), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> ResponseReturnValue:
        # Keep werkzeug's response (status, headers such as Allow), with a JSON body.
        response = err.get_response()
        code = (err.name or "error").lower().replace(" ", "_")
        response.set_data(json.dumps(body(code, err.description or err.name)))
        response.content_type = "application/json"
        return response

    @app.errorhandler(sa.exc.OperationalError)
    def database_down(err: sa.exc.OperationalError) -> ResponseReturnValue:
        log.error("database unavailable: %s", first_line(err))
        return jsonify(body("database_unavailable", "the database cannot be reached")), 503

    @app.errorhandler(sa.exc.TimeoutError)
    def database_busy(err: sa.exc.TimeoutError) -> ResponseReturnValue:
        # Every pooled connection is in use: an overload, not a bug; the client may retry.
        log.error("no database connection free: %s", err)
        return jsonify(body("database_busy", "the database is busy, try again")), 503

    @app.errorhandler(sa.exc.ProgrammingError)
    def schema_mismatch(err: sa.exc.ProgrammingError) -> ResponseReturnValue:
        if isinstance(err.orig, pg_errors.UndefinedColumn | pg_errors.UndefinedTable):
            # The live schema no longer (or not yet) has what this release reads.
            log.error("schema incompatible with this release: %s", first_line(err))
            return jsonify(
                body("schema_incompatible", "this release cannot serve the live schema")
            ), 503
        return internal_error(err)

    @app.errorhandler(Exception)
    def internal_error(err: Exception) -> ResponseReturnValue:
        log.exception("unhandled error: %s", err)
        return jsonify(body("internal_error", "internal server error")), 500


def first_line(err: sa.exc.DBAPIError) -> str:
    """The first line of the driver's message, for a one-line log entry."""
    return str(err.orig or err).strip().splitlines()[0]
