"""The customers reference app: blue (v1, flat address) and green (v2, structured address).

Build it with the factory; nothing is created at import time::

    from app import create_app
    blue = create_app({"APP_VERSION": "blue", "DATABASE_URL": "postgresql://..."})

In the container: ``gunicorn 'app:create_app()'`` (configuration from the environment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app for ``APP_VERSION`` from the environment, with ``test_config`` on top.

    ``test_config`` may set any configuration key, including ``APP_VERSION`` and
    ``DATABASE_URL``, so tests and the rehearsal build apps in-process without touching the
    environment. Importing :mod:`app` alone does not import Flask (``alembic/env.py`` imports
    the models).
    """
    from flask import Flask

    from app import api, api_v2, cache, db, errors, health, logs, openapi, services, versions
    from app.config import load_config

    app = Flask(__name__)
    app.config.from_mapping(load_config(test_config))
    app.json.sort_keys = False  # type: ignore[attr-defined]

    logs.init_app(app)
    errors.init_app(app)
    db.init_app(app)
    cache.init_app(app)
    versions.init_app(app)
    services.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(api.bp)
    if app.config["APP_VERSION"] == "green":
        app.register_blueprint(api_v2.bp)
    return app


__all__ = ["create_app"]
