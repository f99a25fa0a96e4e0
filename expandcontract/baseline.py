"""The baseline: the history a project already had when it adopted expandcontract.

``expandcontract adopt`` records the head revision(s) of that history in
``expandcontract.toml`` beside ``env.py`` (the Alembic script directory), so every command and
every env.py that reads these migrations reads the same baseline::

    # written by `expandcontract adopt`; revisions at or before these heads are legacy
    [baseline]
    heads = ["3f1c2a9b7d4e"]

Revisions at or before the baseline heads are **legacy**: they have no phase, are never policed
or guarded, and the linter skips them unless asked (``--include-legacy``). This module only reads
and writes that file and walks the history; it imports no revision module, so it works on
projects whose revisions cannot be imported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from expandcontract.errors import ConfigurationError

BASELINE_FILE = "expandcontract.toml"


@dataclass(frozen=True)
class Baseline:
    """The recorded baseline heads of one script directory."""

    path: Path
    heads: tuple[str, ...]

    def legacy(self, parents: Callable[[str], Iterable[str]]) -> frozenset[str]:
        """Every revision id at or before the heads; ``parents(id)`` gives its down revisions."""
        return ancestors_or_self(self.heads, parents)


def baseline_path(script_dir: str | Path) -> Path:
    return Path(script_dir) / BASELINE_FILE


def read_baseline(script_dir: str | Path) -> Baseline | None:
    """The baseline recorded for ``script_dir``, or None when the project was never adopted."""
    path = baseline_path(script_dir)
    if not path.is_file():
        return None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: not valid TOML: {err}") from err
    table = document.get("baseline")
    heads = table.get("heads") if isinstance(table, dict) else None
    if not isinstance(heads, list) or not all(isinstance(h, str) and h for h in heads):
        raise ConfigurationError(
            f'{path}: expected a [baseline] table with heads = ["<revision id>", ...]'
        )
    return Baseline(path, tuple(heads))


def write_baseline(script_dir: str | Path, heads: Iterable[str]) -> Path:
    """Record ``heads`` as the baseline of ``script_dir``; returns the file written."""
    path = baseline_path(script_dir)
    listed = ", ".join(f'"{head}"' for head in sorted(heads))
    path.write_text(
        "# Written by `expandcontract adopt`. Revisions at or before these heads are legacy:\n"
        "# no phase, never policed or guarded, not linted unless --include-legacy.\n"
        f"[baseline]\nheads = [{listed}]\n",
        encoding="utf-8",
    )
    return path


def ancestors_or_self(
    heads: Iterable[str], parents: Callable[[str], Iterable[str]]
) -> frozenset[str]:
    """``heads`` and every revision reachable from them through ``parents``."""
    seen: set[str] = set()
    stack = [head for head in heads if head]
    while stack:
        rev_id = stack.pop()
        if rev_id in seen:
            continue
        seen.add(rev_id)
        stack.extend(parents(rev_id))
    return frozenset(seen)
