"""The rehearsal's operator reads what the quarantine commands print; output it cannot read is
a clear error, never a traceback or a silent zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from expandcontract.rehearsal import operator
from expandcontract.rehearsal.operator import OperatorError, QuarantineLog


def _printing(monkeypatch: pytest.MonkeyPatch, out: str) -> None:
    def run_cli(url: str, workdir: Path, *args: str) -> tuple[str, str]:
        return "expandcontract " + " ".join(args), out

    monkeypatch.setattr(operator, "run_cli", run_cli)


@pytest.mark.parametrize("out", ["not json", '{"key": "1"}', "[1, 2]"])
def test_a_list_that_is_not_a_list_of_rows_is_an_error(monkeypatch, tmp_path, out) -> None:
    _printing(monkeypatch, out)
    with pytest.raises(OperatorError, match="quarantine list"):
        operator.open_quarantine("postgresql://x/y", tmp_path, QuarantineLog())


def test_the_open_rows_are_those_without_a_resolution(monkeypatch, tmp_path) -> None:
    _printing(monkeypatch, '[{"key": "1", "resolution": null}, {"key": "2", "resolution": "x"}]')
    rows = operator.open_quarantine("postgresql://x/y", tmp_path, QuarantineLog())
    assert [row["key"] for row in rows] == ["1"]


def test_a_resolve_that_does_not_say_how_many_it_resolved_is_an_error(
    monkeypatch, tmp_path
) -> None:
    log = QuarantineLog()
    _printing(monkeypatch, "done\n")
    with pytest.raises(OperatorError, match="did not say how many rows it resolved"):
        operator.accept("postgresql://x/y", tmp_path, ["1"], log)
    _printing(monkeypatch, "resolved 2 quarantined row(s) of customers\n")
    assert operator.accept("postgresql://x/y", tmp_path, ["1", "2"], log) == 2
    assert log.accepted == 2
