"""Requests are counted per API version and release; v1 is deprecated openly when configured."""

from __future__ import annotations

import re

import pytest

from app.config import AppConfigError
from app.versions import api_version


def _count(text: str, release: str, version: str, status: str = "2xx") -> int:
    match = re.search(
        rf'customers_api_requests_total{{release="{release}",api_version="{version}",'
        rf'status="{status}"}} (\d+)',
        text,
    )
    return int(match.group(1)) if match else 0


def test_paths_map_to_api_versions():
    assert api_version("/api/v1/customers/3") == "v1"
    assert api_version("/api/v2/customers/3") == "v2"
    assert api_version("/api/customers") == "unversioned"
    assert api_version("/health") is None and api_version("/metrics") is None


def test_requests_are_counted_per_release_and_version(upgrade, start_app):
    upgrade("migrate@head")
    green = start_app("green")
    created = green.post("/api/customers", json={"name": "A", "email": "a@example.test"}).json()
    before = green.get("/metrics").text
    for _ in range(3):
        assert green.get(f"/api/v1/customers/{created['id']}").status_code == 200
    assert green.get(f"/api/v2/customers/{created['id']}").status_code == 200
    assert green.get("/api/v2/customers/999999").status_code == 404
    after = green.get("/metrics").text

    assert _count(after, "green", "v1") - _count(before, "green", "v1") == 3
    assert _count(after, "green", "v2") - _count(before, "green", "v2") == 1
    assert _count(after, "green", "v2", "4xx") - _count(before, "green", "v2", "4xx") == 1
    # v1 is not deprecated unless configured.
    plain = green.get(f"/api/v1/customers/{created['id']}")
    assert "Deprecation" not in plain.headers and "Sunset" not in plain.headers


def test_v1_carries_deprecation_sunset_and_successor_when_configured(upgrade, start_app):
    upgrade("migrate@head")
    green = start_app(
        "green", API_V1_DEPRECATED_AT="2027-01-01", API_V1_SUNSET="2027-06-30T00:00:00+00:00"
    )
    created = green.post("/api/customers", json={"name": "B", "email": "b@example.test"}).json()
    v1 = green.get(f"/api/v1/customers/{created['id']}")
    v2 = green.get(f"/api/v2/customers/{created['id']}")

    assert v1.headers["Deprecation"] == "@1798761600"
    assert v1.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert v1.headers["Link"] == f'</api/v2/customers/{created["id"]}>; rel="successor-version"'
    assert "Deprecation" not in v2.headers and "Sunset" not in v2.headers


def test_a_bad_date_is_a_configuration_error(make_app, database_url):
    with pytest.raises(AppConfigError, match="API_V1_SUNSET must be an ISO date"):
        make_app({"APP_VERSION": "blue", "DATABASE_URL": database_url, "API_V1_SUNSET": "soon"})
