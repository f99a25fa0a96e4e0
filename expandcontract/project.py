"""Opening a project's Alembic configuration the way its own tools do.

Flask-Migrate keeps ``alembic.ini`` inside the migration directory without a
``script_location`` (``flask db`` sets it from the directory), and its env.py needs a Flask
application context (``current_app.extensions['migrate']``). Both are provided here, so the
``expandcontract`` commands work on such a project as they do on a plain Alembic one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config

from expandcontract.errors import ConfigurationError


def load_project_config(config_path: str | Path, database_url: str | None = None) -> Config:
    """The Alembic config at ``config_path``, with ``--database-url`` attached when given."""
    path = Path(config_path)
    if not path.is_file():
        raise ConfigurationError(
            f"no Alembic config at {config_path}: pass -c PATH (Flask-Migrate: "
            "-c migrations/alembic.ini), or create one with `expandcontract init DIR`"
        )
    config = Config(str(path))
    if not config.get_main_option("script_location"):
        # Flask-Migrate: the config file lives in the migration directory itself.
        if not (path.parent / "env.py").is_file():
            raise ConfigurationError(
                f"{path} has no script_location and {path.parent} has no env.py: "
                "set script_location in the [alembic] section"
            )
        config.set_main_option("script_location", str(path.parent.resolve()))
    if database_url:
        config.attributes["expandcontract.database_url"] = database_url
        # env.py files that build their own engine from the config use it too.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def env_needs_flask(config: Config) -> bool:
    """True when the project's env.py uses Flask's ``current_app`` (Flask-Migrate)."""
    location = config.get_main_option("script_location") or ""
    env = Path(location) / "env.py"
    if not env.is_absolute() and config.config_file_name:
        env = Path(config.config_file_name).parent / env
    try:
        return "current_app" in env.read_text(encoding="utf-8")
    except OSError:
        return False


@contextmanager
def app_context(config: Config, app: str | None = None) -> Iterator[None]:
    """A Flask application context while env.py runs, when env.py needs one.

    The application comes from ``app`` (``--app``), else ``$FLASK_APP``.
    """
    app_path = app or os.environ.get("FLASK_APP")
    if not app_path and not env_needs_flask(config):
        yield
        return
    if not app_path:
        raise ConfigurationError(
            "env.py needs a Flask application (it uses current_app): pass "
            "--app MODULE:create_app or set FLASK_APP"
        )
    try:
        from flask.cli import NoAppException, ScriptInfo
    except ImportError as err:
        raise ConfigurationError("env.py needs Flask, which is not installed") from err
    try:
        application = ScriptInfo(app_import_path=app_path).load_app()
    except (NoAppException, Exception) as err:  # the app's own import errors included
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigurationError(
            f"cannot load the Flask application {app_path!r}: {first}"
        ) from err
    with application.app_context():
        yield
