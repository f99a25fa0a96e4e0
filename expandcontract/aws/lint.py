"""The lint step of a release: ``expandcontract check`` through a small seam."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from expandcontract.errors import ExpandContractError

# Runs the linter, returns its exit status (0: no errors, 1: errors, 2: usage problem).
Linter = Callable[[str], int]


class LintFailed(ExpandContractError):
    """``expandcontract check`` found errors; nothing was deployed."""


def run_check(config_path: str) -> int:
    """Run ``expandcontract check -c CONFIG`` in a child process; its output goes to ours."""
    program = "import sys; from expandcontract.cli import main; sys.exit(main())"
    return subprocess.call([sys.executable, "-c", program, "check", "-c", config_path])


def lint(config_path: str, linter: Linter = run_check) -> None:
    status = linter(config_path)
    if status == 1:
        raise LintFailed("`expandcontract check` found errors: fix them before releasing")
    if status != 0:
        raise LintFailed(f"`expandcontract check` could not run (exit {status})")
