"""``expandcontract check`` on an adopted project: the legacy history is not judged, new
revisions are (the linter skips revisions at or before the baseline unless --include-legacy)."""

from __future__ import annotations

import json

import pytest

from tests.adopt.test_adopt_input import copy, invoke

pytestmark = pytest.mark.filterwarnings("ignore:No path_separator found:DeprecationWarning")


@pytest.mark.parametrize("kind", ["plain", "flask"])
def test_check_is_clean_on_the_legacy_history_and_fails_on_a_new_unsafe_revision(
    tmp_path, monkeypatch, kind
) -> None:
    project = copy(tmp_path, kind)
    ini = project.ini
    assert invoke(project, monkeypatch, "adopt", "-c", ini).exit_code == 0
    clean = invoke(project, monkeypatch, "check", "-c", ini, "--format", "json")
    assert clean.exit_code == 0, clean.output
    legacy = invoke(project, monkeypatch, "check", "-c", ini, "--include-legacy")
    assert legacy.exit_code == 1, "the legacy history has unsafe revisions, judged on request"

    made = invoke(project, monkeypatch, "revision", "-c", ini, "--phase", "expand", "-m", "oops")
    assert made.exit_code == 0, made.output
    project.fill("oops", 'op.drop_column("user", "email")')  # destructive, in expand
    unsafe = invoke(project, monkeypatch, "check", "-c", ini, "--format", "json")
    assert unsafe.exit_code == 1, unsafe.output
    findings = json.loads(unsafe.stdout)["findings"]
    assert findings and {f["phase"] for f in findings if f["severity"] == "error"} == {"expand"}
