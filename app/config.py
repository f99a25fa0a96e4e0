"""Configuration from the environment, overridable by a dict (tests, the rehearsal)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import URL

from app.state_config import state_config
from expandcontract.errors import ConfigurationError
from expandcontract.runtime.connect import normalise_url

RELEASES = ("blue", "green")

# Each release caches under its own key version: the two releases render a customer differently,
# so one must never serve the other's cached JSON.
DEFAULT_CACHE_VERSIONS = {"blue": "v1", "green": "v2"}


class AppConfigError(ValueError):
    """The app cannot start with this configuration; the message says what to set."""


def database_url_from(env: Mapping[str, str]) -> str:
    """``DATABASE_URL``, or a URL built from the ``DB_*`` variables.

    The parts are assembled with :meth:`URL.create`, which escapes them when rendered, so a
    password such as ``p@ss:w/rd%`` survives the trip.
    """
    if env.get("DATABASE_URL"):
        try:
            return normalise_url(env["DATABASE_URL"])
        except ConfigurationError as err:
            raise AppConfigError(f"DATABASE_URL: {err}") from err
    if not env.get("DB_HOST"):
        raise AppConfigError(
            "set DATABASE_URL, or DB_HOST (with DB_PORT, DB_NAME, DB_USER, DB_PASSWORD)"
        )
    port = _number(env, "DB_PORT", 5432)
    url = URL.create(
        "postgresql+psycopg",
        username=env.get("DB_USER") or "postgres",
        password=env.get("DB_PASSWORD") or None,
        host=env["DB_HOST"],
        port=port,
        database=env.get("DB_NAME") or "postgres",
    )
    return url.render_as_string(hide_password=False)


def load_config(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The app's settings: the environment, with ``overrides`` (``test_config``) on top."""
    env = dict(os.environ if env is None else env)
    overrides = dict(overrides or {})
    # A test or the rehearsal may pass any environment name as a config key.
    for key in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        if key in overrides:
            env[key] = str(overrides.pop(key) or "")
    version = str(overrides.pop("APP_VERSION", env.get("APP_VERSION", "blue"))).strip().lower()
    if version not in RELEASES:
        raise AppConfigError(f"APP_VERSION must be 'blue' or 'green', not {version!r}")
    config: dict[str, Any] = {
        "APP_VERSION": version,
        "ENVIRONMENT": env.get("ENVIRONMENT", "local"),
        "DATABASE_URL": database_url_from(env),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "CACHE_VERSION": env.get("CACHE_VERSION") or DEFAULT_CACHE_VERSIONS[version],
        # Short: a read racing a write may re-cache the old row after the invalidation.
        "CACHE_TTL_SECONDS": _number(env, "CACHE_TTL_SECONDS", 60),
        "DB_POOL_SIZE": _number(env, "DB_POOL_SIZE", 5),
        "DB_MAX_OVERFLOW": _number(env, "DB_MAX_OVERFLOW", 10),
        # Seconds a request waits for a pooled connection before it is answered 503.
        "DB_POOL_TIMEOUT": _number(env, "DB_POOL_TIMEOUT", 5),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # ISO dates; when set, v1 responses carry Deprecation / Sunset headers (app/versions.py).
        "API_V1_DEPRECATED_AT": env.get("API_V1_DEPRECATED_AT") or None,
        "API_V1_SUNSET": env.get("API_V1_SUNSET")
        or None,  # a customer is a few hundred bytes; bigger is a 413
    }
    try:
        config.update(state_config(env, config["REDIS_URL"]))
    except ValueError as err:
        raise AppConfigError(str(err)) from err
    config.update(overrides)
    return config


def _number(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise AppConfigError(f"{key} must be a number, not {raw!r}") from err
