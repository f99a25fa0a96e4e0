"""Open an Alembic script directory for linting, turning bad input into located errors.

Bad input never produces a traceback: a missing config file, a revision that does not parse
or raises on import, or a ``down_revision`` naming a revision that does not exist all become a
:class:`LintInputError` (exit status 2) that names the file and line.
"""

from __future__ import annotations

import importlib
import os
import re
import traceback
import warnings
from pathlib import Path

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from expandcontract.errors import ConfigurationError


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


def open_script_directory(config_path: Path) -> tuple[Config, ScriptDirectory, list[Script]]:
    """The config, script directory and every revision (oldest first)."""
    if not config_path.is_file():
        raise LintInputError(
            "no Alembic config file here: pass -c PATH/alembic.ini", str(config_path)
        )
    config = Config(str(config_path))
    # `prepend_sys_path = .` is relative to the working directory; the import system caches
    # what "." held and only re-reads it when the directory's mtime changes, which a freshly
    # checked-out tree may not show. Forget that cache so revisions import the project's modules.
    importlib.invalidate_caches()
    try:
        script = ScriptDirectory.from_config(config)
    except CommandError as err:
        raise LintInputError(str(err), str(config_path)) from err
    except Exception as err:  # noqa: BLE001 - a malformed ini must not produce a traceback
        raise LintInputError(f"{type(err).__name__}: {err}", str(config_path)) from err
    versions = [Path(p) for p in script._version_locations]
    try:
        with warnings.catch_warnings():
            # Alembic warns before it raises about a missing down_revision; we report it once.
            warnings.simplefilter("ignore")
            revisions = _oldest_first(script)
    except SyntaxError as err:
        raise LintInputError(f"syntax error: {err.msg}", err.filename, err.lineno) from err
    except Exception as err:  # noqa: BLE001 - user code raised at import, or a broken chain
        raise _located(err, versions) from err
    return config, script, revisions


def _oldest_first(script: ScriptDirectory) -> list[Script]:
    """Every revision, each after everything it depends on.

    Alembic's ``walk_revisions()`` does the same, but its general-purpose topological walk
    dominates the run time on long histories; the map is all we need.
    """
    mapping = script.revision_map._revision_map
    scripts = {s.revision: s for s in mapping.values() if isinstance(s, Script)}
    order: list[Script] = []
    placed: set[str] = set()
    for rev_id in sorted(scripts):
        stack = [(rev_id, False)]
        while stack:
            current, expanded = stack.pop()
            if current in placed:
                continue
            if expanded:
                placed.add(current)
                order.append(scripts[current])
                continue
            stack.append((current, True))
            stack.extend(
                (parent, False)
                for parent in scripts[current]._all_down_revisions
                if parent in scripts and parent not in placed
            )
    return order


def _located(err: Exception, versions: list[Path]) -> LintInputError:
    """Point at the revision file (and line) an error while loading the history came from."""
    message = f"{type(err).__name__}: {err}" if not isinstance(err, CommandError) else str(err)
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if any(Path(frame.filename).parent == folder.resolve() for folder in versions):
            return LintInputError(
                f"revision raised on import: {message}", frame.filename, frame.lineno
            )
    # A broken down_revision / depends_on: find the file that names the missing id.
    for missing in re.findall(r"'([0-9A-Za-z_]+)'", str(err)):
        located = _file_naming(missing, versions)
        if located is not None:
            return LintInputError(
                f"broken revision chain: revision {missing!r} is referenced here but does not "
                "exist",
                *located,
            )
    return LintInputError(f"cannot load the revision history: {message}")


_REFERENCE = re.compile(r"^\s*(down_revision|depends_on)\b")


def _file_naming(revision_id: str, versions: list[Path]) -> tuple[str, int] | None:
    for folder in versions:
        for path in sorted(folder.glob("*.py")):
            for number, line in enumerate(
                path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
            ):
                if _REFERENCE.match(line) and revision_id in line:
                    return str(path), number
    return None
