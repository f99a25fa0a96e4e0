"""WSGI entry point for servers that want a module attribute: ``gunicorn app.wsgi:app``.

``gunicorn 'app:create_app()'`` works too and is what the container runs.
"""

from __future__ import annotations

from app import create_app

app = create_app()
