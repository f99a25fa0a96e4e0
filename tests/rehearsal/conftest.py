"""Run ``expandcontract rehearse`` for real (PostgreSQL, gunicorn, router, load) and read its report."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from expandcontract.cli import main
from tests.rehearsal.support import SMALL, scratch_databases, scratch_name

_DATA = re.compile(
    r'<script type="application/json" id="rehearsal-data">\n(.*?)\n</script>', re.DOTALL
)


@dataclass
class Rehearsal:
    exit_code: int
    output: str
    html: str

    @property
    def data(self) -> dict[str, Any]:
        """The JSON the report page embeds."""
        match = _DATA.search(self.html)
        assert match, "the report embeds no JSON"
        return json.loads(match.group(1))

    def phase(self, name: str) -> dict[str, Any]:
        return next(p for p in self.data["phases"] if p["phase"] == name)


def _rehearse(server_url: str, folder: Path, *args: str) -> Rehearsal:
    """Run the command on the test server; check that it removed its scratch database."""
    report = folder / "report.html"
    result = CliRunner().invoke(
        main, ["rehearse", "--database-url", server_url, "--report", str(report), *SMALL, *args]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    # Named, not counted: other runs may share the server.
    assert scratch_name(result.output) not in scratch_databases(server_url)
    html = report.read_text(encoding="utf-8") if report.exists() else ""
    return Rehearsal(result.exit_code, result.output, html)


@pytest.fixture
def rehearse(pg_server_url: str, tmp_path: Path) -> Callable[..., Rehearsal]:
    """``rehearse(*args)`` runs the small rehearsal with extra options."""
    return functools.partial(_rehearse, pg_server_url, tmp_path)


@pytest.fixture(scope="module")
def safe_rehearsal(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    """One small default rehearsal, shared by the tests that only read its results.

    A quarter of its writes carry addresses the parser rejects, and each step holds 1 s, so
    blue stores some after the backfill (during the rollback it has all the traffic)."""
    return _rehearse(
        pg_server_url,
        tmp_path_factory.mktemp("safe"),
        *("--bad-addresses", "25", "--step-seconds", "1"),
    )
