"""Run ``expandcontract rehearse`` for real (PostgreSQL, gunicorn, router, load) and read its report."""

from __future__ import annotations

import json
import re
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


@pytest.fixture
def rehearse(pg_server_url: str, tmp_path: Path) -> Any:
    """``rehearse(*args)`` runs the command on the test server and returns a :class:`Rehearsal`;
    it also checks that the run removed its scratch database."""

    def run(*args: str) -> Rehearsal:
        report = tmp_path / "report.html"
        result = CliRunner().invoke(
            main,
            ["rehearse", "--database-url", pg_server_url, "--report", str(report), *SMALL, *args],
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        # Named, not counted: other runs may share the server.
        assert scratch_name(result.output) not in scratch_databases(pg_server_url)
        html = report.read_text(encoding="utf-8") if report.exists() else ""
        return Rehearsal(result.exit_code, result.output, html)

    return run
