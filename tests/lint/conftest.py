"""Linter tests: scenario projects are real Alembic directories; no database is needed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from expandcontract.cli import main

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture
def in_scenario(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Run from inside a scenario project, as CI runs from the repository root."""

    def enter(name: str) -> Path:
        folder = SCENARIOS / name
        monkeypatch.chdir(folder)
        return folder

    return enter


@pytest.fixture
def scenario_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A writable copy of a scenario (to change its pyproject.toml), entered."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SCENARIOS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.chdir(target)
        return target

    return copy


@pytest.fixture
def check() -> Callable[..., Result]:
    """``expandcontract check ARGS`` through click's test runner."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)

    return run
