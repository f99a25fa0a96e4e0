"""The history read from source: graph, phases and legacy without importing any revision."""

from __future__ import annotations

import sys
from pathlib import Path

from expandcontract.lint.history import read_history
from expandcontract.lint.loader import load_revision
from expandcontract.phases import Phase


def _revision(folder: Path, rev: str, down: object, labels: object = None, body: str = "") -> Path:
    path = folder / f"{rev}.py"
    path.write_text(
        "import not_installed_anywhere.models as models\n"  # never imported by read_history
        f"revision: str = {rev!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels!r}\ndepends_on = None\n{body}\n"
        "def upgrade():\n    pass\n"
    )
    return path


def test_phase_is_the_nearest_declared_label_and_legacy_has_none(tmp_path: Path) -> None:
    files = [
        _revision(tmp_path, "l1", None),
        _revision(tmp_path, "l2", "l1"),
        _revision(tmp_path, "e1", "l2", ("expand",)),
        _revision(tmp_path, "e2", "e1"),
        _revision(tmp_path, "m1", "l2", ["migrate"]),
        _revision(tmp_path, "x1", ("e2", "m1")),
        _revision(tmp_path, "u1", "l2"),
    ]
    history = read_history(files, ["l2"])
    assert history.legacy == {"l1", "l2"}
    phases = history.phases
    assert (phases["l1"], phases["l2"]) == (None, None)  # Alembic would say "expand" here
    assert (phases["e1"], phases["e2"], phases["m1"]) == (Phase.EXPAND, Phase.EXPAND, Phase.MIGRATE)
    assert phases["u1"] is None and phases["x1"] is None
    assert "several phase branches (expand, migrate)" in history.phase_errors["x1"]
    assert [r.revision for r in history.revisions].index("l1") == 0
    assert {r.revision for r in history.closure("x1")} == {"e2", "e1", "m1", "l2", "l1"}


def test_invalid_python_and_helper_files(tmp_path: Path) -> None:
    good = _revision(tmp_path, "a1", None)
    broken = tmp_path / "broken.py"
    broken.write_text("revision = 'b1'\ndef upgrade(:\n")
    helper = tmp_path / "helpers.py"
    helper.write_text("def shared():\n    return 1\n")
    cycle_a = _revision(tmp_path, "c1", "c2")
    cycle_b = _revision(tmp_path, "c2", "c1")
    history = read_history([good, broken, helper, cycle_a, cycle_b], None)
    assert sorted(r.revision for r in history.revisions) == ["a1", "c1", "c2"]
    [invalid] = history.invalid
    assert (invalid.path, invalid.line) == (broken, 2)


def test_missing_packages_get_stand_ins_that_do_not_leak(tmp_path: Path) -> None:
    path = _revision(
        tmp_path,
        "s1",
        None,
        body="from not_installed_anywhere.types import GUID\n"
        "class Thing(models.Base):\n    kind = GUID(length=3)\n",
    )
    loaded = load_revision(path)
    assert loaded.module is not None and loaded.error is None
    assert loaded.missing == ["not_installed_anywhere"]
    assert loaded.module.revision == "s1"
    assert "not_installed_anywhere" not in sys.modules
    raising = tmp_path / "r1.py"
    raising.write_text("revision = 'r1'\n\nraise RuntimeError('needs settings')\n")
    failed = load_revision(raising)
    assert failed.module is None and failed.error == "RuntimeError: needs settings"
    assert failed.error_line == 3
