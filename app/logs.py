"""Structured JSON logs: one object per line, tagged with version, environment and request id.

The request id comes from the ``X-Request-ID`` header (a load balancer or the rehearsal router
sets it) or is generated, and is echoed back, so one request can be followed across services.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request

from app.versions import api_version

LOGGER_NAME = "customers"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; extra fields given to the logger are kept."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_app_context():
            entry["version"] = current_app.config.get("APP_VERSION")
            entry["environment"] = current_app.config.get("ENVIRONMENT")
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logger(level: str) -> logging.Logger:
    """The ``customers`` logger with one JSON handler on stderr (idempotent: many apps)."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level.upper())
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def init_app(app: Flask) -> None:
    """Assign request ids and log one access line per request."""
    logger = configure_logger(app.config["LOG_LEVEL"])

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["X-App-Version"] = current_app.config["APP_VERSION"]
        started = g.get("started")
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                # Requests per API version per release: what tells when v1 can be retired.
                "api_version": api_version(request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)
                if started
                else None,
            },
        )
        return response
