"""Where the reference project (the Flask app and its migrations) is, and how to import it.

A wheel carries it as data under ``expandcontract/_reference/`` (see ``setup.py``); an
editable install finds it in the checkout, beside the ``expandcontract`` folder. Either way
it is never an installed top-level ``app`` package (that would shadow the user's own): only
the rehearsal's own process and its children put the folder on their import path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from expandcontract.errors import ConfigurationError

_PACKAGE = Path(__file__).resolve().parent.parent


def _is_reference(folder: Path) -> bool:
    return (folder / "app" / "__init__.py").is_file() and (folder / "alembic" / "env.py").is_file()


def reference_root() -> Path:
    """The folder holding ``app/`` and ``alembic/`` of the reference project."""
    for candidate in (_PACKAGE / "_reference", _PACKAGE.parent):
        if _is_reference(candidate):
            return candidate
    raise ConfigurationError(
        f"the reference app is missing from this installation ({_PACKAGE}): reinstall "
        "expandcontract (pip install expandcontract) or install the checkout (pip install -e .)"
    )


def package_parent() -> Path:
    """The folder ``expandcontract`` is imported from (site-packages or the checkout)."""
    return _PACKAGE.parent


def make_reference_importable() -> Path:
    """Put the reference project first on this process's import path; return its folder.

    The rehearsal runs the reference migrations in-process (their ``env.py`` imports
    ``app.models_v2``), so its own process must import the reference ``app``, whatever the
    working directory holds.
    """
    missing = [m for m in ("flask", "gunicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigurationError(
            f"the rehearsal runs the reference app, which needs {' and '.join(missing)}: "
            "pip install expandcontract (they are dependencies)"
        )
    root = reference_root()
    loaded = sys.modules.get("app")
    if loaded is not None and Path(str(loaded.__file__)).resolve().parent.parent != root:
        raise ConfigurationError(
            f"another package called 'app' is already imported ({loaded.__file__}): run the "
            "rehearsal in its own process (expandcontract rehearse)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root
