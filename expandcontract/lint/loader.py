"""Import one revision file the way Alembic does, with stand-ins for packages that are missing.

Revisions import their project's own packages (models, helpers, custom column types); in CI
those are often not installed where the linter runs. When an import fails because a module is
missing, a *stand-in* module takes its place and the import is retried, so the revision's
operations can still be rendered; the missing module is named in a notice. Any other failure
at import time leaves the revision to static analysis. Stand-ins are removed from
``sys.modules`` afterwards: they never leak into the next revision or into the caller.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

_MAX_STAND_INS = 20
STAND_IN_MARK = "<stand-in for "  # how a stand-in shows when it ends up in SQL text


class StandIn:
    """Whatever a missing module's attribute is: callable, indexable, iterable (empty), a base."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> StandIn:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return StandIn(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        return StandIn(f"{self._name}()")

    def __getitem__(self, key: Any) -> StandIn:
        return StandIn(f"{self._name}[]")

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (object,)  # ``class Thing(missing.Base):`` still defines a class

    def __repr__(self) -> str:
        return f"{STAND_IN_MARK}{self._name}>"


class _StandInModule(ModuleType):
    __path__: list[str] = []  # a package, so ``missing.sub`` imports resolve to stand-ins too

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return StandIn(f"{self.__name__}.{attr}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a stand-in for every module named (or under a name) in ``missing``."""

    def __init__(self) -> None:
        self.missing: list[str] = []

    def covers(self, fullname: str) -> bool:
        return any(fullname == name or fullname.startswith(name + ".") for name in self.missing)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self.covers(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return _StandInModule(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        return None


@dataclass
class Loaded:
    """The outcome of importing one revision file."""

    module: ModuleType | None
    missing: list[str] = field(default_factory=list)  # modules replaced by stand-ins
    error: str | None = None  # why the module could not be imported at all
    error_line: int | None = None


def load_revision(path: Path) -> Loaded:
    """Import ``path`` as Alembic does (a fresh module, not kept in ``sys.modules``)."""
    finder = _StandInFinder()
    before = set(sys.modules)
    sys.meta_path.insert(0, finder)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            for _ in range(_MAX_STAND_INS):
                try:
                    return Loaded(_exec(path), list(finder.missing))
                except ModuleNotFoundError as err:
                    name = err.name or _missing_name(str(err))
                    if not name or finder.covers(name):
                        return _failed(err, path, finder)
                    finder.missing.append(name)
                except SystemExit as err:
                    return _failed(err, path, finder)
                except Exception as err:  # noqa: BLE001 - user code: reported, never raised
                    return _failed(err, path, finder)
            return Loaded(None, list(finder.missing), "too many missing modules", None)
    finally:
        sys.meta_path.remove(finder)
        _forget_stand_ins(before)


def _exec(path: Path) -> ModuleType:
    module_id = re.sub(r"\W", "_", path.name)
    spec = importlib.util.spec_from_file_location(module_id, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _missing_name(message: str) -> str | None:
    match = re.search(r"No module named '([^']+)'", message)
    return match.group(1) if match else None


def _forget_stand_ins(before: set[str]) -> None:
    for name in set(sys.modules) - before:
        if isinstance(sys.modules[name], _StandInModule):
            del sys.modules[name]


def _failed(err: BaseException, path: Path, finder: _StandInFinder) -> Loaded:
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return Loaded(None, list(finder.missing), f"{type(err).__name__}: {err}", line)
