"""Settings of the state beyond the database (sessions, events, exports, flags), from the
environment. Every service is optional: unset, the app runs without it and says so in
``/health``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATE_FORMATS = ("versioned", "unversioned")


def state_config(env: Mapping[str, str], redis_url: str | None) -> dict[str, Any]:
    session_url = env.get("SESSION_REDIS_URL") or redis_url
    store = env.get("SESSION_STORE") or ("redis" if session_url else "memory")
    if store not in ("redis", "memory"):
        raise ValueError(f"SESSION_STORE must be 'redis' or 'memory', not {store!r}")
    if store == "redis" and not session_url:
        raise ValueError("SESSION_STORE=redis needs SESSION_REDIS_URL or REDIS_URL")
    state_format = env.get("STATE_FORMAT") or "versioned"
    if state_format not in STATE_FORMATS:
        raise ValueError(f"STATE_FORMAT must be one of {STATE_FORMATS}, not {state_format!r}")
    refresh = env.get("FLAGS_REFRESH_SECONDS") or "30"
    try:
        refresh_seconds = float(refresh)
    except ValueError:
        raise ValueError(f"FLAGS_REFRESH_SECONDS must be a number, not {refresh!r}") from None
    appconfig = [
        env.get(k) for k in ("APPCONFIG_APPLICATION", "APPCONFIG_ENVIRONMENT", "APPCONFIG_PROFILE")
    ]
    if any(appconfig) and not all(appconfig):
        raise ValueError(
            "set all of APPCONFIG_APPLICATION, APPCONFIG_ENVIRONMENT, APPCONFIG_PROFILE"
        )
    return {
        "SESSION_STORE": store,
        "SESSION_REDIS_URL": session_url,
        # Keys of sessions and cached customers start with this (one Redis, several apps).
        "STATE_KEY_PREFIX": env.get("STATE_KEY_PREFIX", ""),
        "STATE_FORMAT": state_format,
        "AWS_ENDPOINT_URL": env.get("AWS_ENDPOINT_URL") or None,
        "EVENTS_QUEUE_URL": env.get("EVENTS_QUEUE_URL") or None,
        "EVENTS_DLQ_URL": env.get("EVENTS_DLQ_URL") or None,
        "EXPORTS_BUCKET": env.get("EXPORTS_BUCKET") or None,
        "FLAGS_FILE": env.get("FLAGS_FILE") or None,
        "APPCONFIG_APPLICATION": appconfig[0],
        "APPCONFIG_ENVIRONMENT": appconfig[1],
        "APPCONFIG_PROFILE": appconfig[2],
        "FLAGS_REFRESH_SECONDS": refresh_seconds,
        "SESSION_LIFETIME_SECONDS": _seconds(env, "SESSION_LIFETIME_SECONDS", 12 * 3600),
        # SQS long polling of the consumer (0 to 20; 0 polls and idles 0.2 s when empty).
        "EVENTS_WAIT_SECONDS": min(_seconds(env, "EVENTS_WAIT_SECONDS", 10, minimum=0), 20),
        "EVENTS_STATS_FILE": env.get("EVENTS_STATS_FILE") or None,
    }


def _seconds(env: Mapping[str, str], key: str, default: int, minimum: int = 1) -> int:
    raw = env.get(key)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{key} must be a whole number of seconds >= {minimum}, not {raw!r}")
    return int(raw)
