"""API versions, the way the article advises: count each version's traffic, deprecate v1 openly.

- Every access-log line carries ``api_version`` (``v1``, ``v2``, ``unversioned``) beside the
  release (``version``), so a log query or a metric filter plots requests per API version per
  release and shows when v1 traffic is low enough to retire it. The same counts, per process,
  are in ``GET /metrics`` (Prometheus text format) for a scraper.
- When ``API_V1_DEPRECATED_AT`` and/or ``API_V1_SUNSET`` are set (ISO dates), every v1
  response carries ``Deprecation`` (RFC 9745, ``@<unix time>``), ``Sunset`` (RFC 8594, an
  HTTP date) and, on green, a ``Link`` to its successor (``rel="successor-version"``).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime
from email.utils import format_datetime

from flask import Blueprint, Flask, Response, current_app, request

from app.config import AppConfigError

bp = Blueprint("metrics", __name__)

_counts: Counter[tuple[str, str, str]] = Counter()
_lock = threading.Lock()


def api_version(path: str) -> str | None:
    """``v1``/``v2`` for versioned API paths, ``unversioned`` for ``/api/...``, else None."""
    if path.startswith("/api/v1/"):
        return "v1"
    if path.startswith("/api/v2/"):
        return "v2"
    if path == "/api" or path.startswith("/api/"):
        return "unversioned"
    return None


def parse_date(value: str | None, key: str) -> datetime | None:
    """An ISO date (or date-time) from the configuration, as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError as err:
            raise AppConfigError(
                f"{key} must be an ISO date such as 2027-06-30, not {value!r}"
            ) from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def init_app(app: Flask) -> None:
    deprecated = parse_date(app.config.get("API_V1_DEPRECATED_AT"), "API_V1_DEPRECATED_AT")
    sunset = parse_date(app.config.get("API_V1_SUNSET"), "API_V1_SUNSET")

    @app.after_request
    def count_and_label(response: Response) -> Response:
        version = api_version(request.path)
        if version is None:
            return response
        release = current_app.config["APP_VERSION"]
        with _lock:
            _counts[(release, version, f"{response.status_code // 100}xx")] += 1
        if version == "v1" and (deprecated or sunset):
            if deprecated:
                response.headers["Deprecation"] = f"@{int(deprecated.timestamp())}"
            if sunset:
                response.headers["Sunset"] = format_datetime(sunset, usegmt=True)
            if release == "green":
                successor = request.path.replace("/api/v1/", "/api/v2/", 1)
                response.headers["Link"] = f'<{successor}>; rel="successor-version"'
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    """Requests per release, API version and status class, since this process started."""
    lines = [
        "# HELP customers_api_requests_total API requests by release, API version and status.",
        "# TYPE customers_api_requests_total counter",
    ]
    with _lock:
        counts = sorted(_counts.items())
    for (release, version, status), count in counts:
        lines.append(
            f'customers_api_requests_total{{release="{release}",api_version="{version}",'
            f'status="{status}"}} {count}'
        )
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
