"""Open an Alembic script directory for linting, turning bad input into located errors.

Bad input never produces a traceback: a missing or malformed config file, or a
``down_revision`` naming a revision that does not exist, becomes a :class:`LintInputError`
(exit status 2) that names the file and line. Problems inside one revision (invalid Python, an
import that fails) are findings, not input errors: the rest of the history is still checked.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from expandcontract.errors import ConfigurationError
from expandcontract.project import load_project_config


class LintInputError(ConfigurationError):
    """The script directory cannot be loaded; ``file``/``line`` say where."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        shown = display_path(file) if file else None
        location = ":".join(str(part) for part in (shown, line) if part is not None)
        super().__init__(f"{location}: {message}" if location else message)
        self.file = file
        self.line = line


def display_path(path: str | Path) -> str:
    """Relative to the working directory (what CI annotations expect) when possible."""
    resolved = Path(path).resolve()
    try:
        return os.path.relpath(resolved)
    except ValueError:
        return str(resolved)


def open_script_directory(config_path: Path) -> tuple[Config, ScriptDirectory, list[Path]]:
    """The config, the script directory and every ``.py`` file of its version locations.

    No revision is imported here: :mod:`expandcontract.lint.history` reads them from source.
    """
    if not config_path.is_file():
        raise LintInputError(
            "no Alembic config file here: pass -c PATH/alembic.ini", str(config_path)
        )
    try:
        # Flask-Migrate's alembic.ini has no script_location: the same rule as every command.
        config = load_project_config(config_path)
    except ConfigurationError as err:
        raise LintInputError(str(err), str(config_path)) from err
    # `prepend_sys_path = .` is relative to the working directory; the import system caches
    # what "." held and only re-reads it when the directory's mtime changes, which a freshly
    # checked-out tree may not show. Forget that cache so revisions import the project's modules.
    importlib.invalidate_caches()
    try:
        script = ScriptDirectory.from_config(config)
        locations = [Path(p) for p in script._version_locations if Path(p).is_dir()]
        files = [path for folder in locations for path in Script._list_py_dir(script, folder)]
    except CommandError as err:
        raise LintInputError(str(err), str(config_path)) from err
    except Exception as err:  # noqa: BLE001 - a malformed ini must not produce a traceback
        raise LintInputError(f"{type(err).__name__}: {err}", str(config_path)) from err
    unique: dict[Path, Path] = {}
    for path in files:
        if path.suffix == ".py":
            unique.setdefault(path.resolve(), path)
    return config, script, sorted(unique.values())
