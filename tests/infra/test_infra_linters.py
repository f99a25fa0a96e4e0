"""checkov over infra/ (zero failed checks, every skip reasoned in code) and `terraform fmt`.

checkov runs from its own virtualenv, ``.venv-checkov`` at the repository root, created on first
use: it cannot share the project environment because its HCL parser (``bc-python-hcl2``) installs
the same ``hcl2`` module as ``python-hcl2`` and would replace it, and it pins an older boto3.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
TERRAFORM_DIR = INFRA / "terraform"

CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
CHECKOV_REQUIREMENT = "checkov>=3.2,<4"
FRAMEWORKS = "terraform,dockerfile,github_actions"
SKIP_ANNOTATION = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")
# checkov only recognises workflows under .github/workflows, so the example is scanned from a copy.
WORKFLOW = INFRA / "ci" / "github-actions.yml"


def _checkov_executable() -> Path:
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    return CHECKOV_VENV / bindir / "checkov"


@pytest.fixture(scope="session")
def checkov() -> Path:
    """Path of a working checkov, installing it into .venv-checkov when absent (about a minute)."""
    executable = _checkov_executable()
    if not executable.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(CHECKOV_VENV)
        pip = [str(CHECKOV_VENV / executable.parent.name / "python"), "-m", "pip"]
        result = subprocess.run(
            [*pip, "install", "--quiet", "--disable-pip-version-check", CHECKOV_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
            pytest.fail(
                f"could not install {CHECKOV_REQUIREMENT} into {CHECKOV_VENV}:\n"
                f"{result.stderr[-2000:]}"
            )
    return executable


def run_checkov(checkov: Path, directory: Path, frameworks: str) -> dict[str, dict[str, Any]]:
    """Run checkov on ``directory``; reports by check type. Never reaches the network."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_EMOJI": "true"}
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            str(directory),
            "--framework",
            frameworks,
            "-o",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env=env,
    )
    try:
        parsed = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"checkov printed no JSON (exit {result.returncode}):\n{result.stderr[-2000:]}")
    reports = parsed if isinstance(parsed, list) else [parsed]
    return {report["check_type"]: report for report in reports}


@pytest.fixture(scope="session")
def infra_reports(checkov: Path) -> dict[str, dict[str, Any]]:
    """checkov's reports for `checkov -d infra --framework terraform,dockerfile,github_actions`."""
    return run_checkov(checkov, INFRA, FRAMEWORKS)


@pytest.fixture(scope="session")
def workflow_report(checkov: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's github_actions report for the example workflow."""
    root = tmp_path_factory.mktemp("gha")
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(WORKFLOW, workflows / "release.yml")
    return run_checkov(checkov, root, "github_actions")["github_actions"]


def _failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]


def test_checkov_scans_terraform_and_dockerfile(infra_reports: dict[str, dict[str, Any]]) -> None:
    assert {"terraform", "dockerfile"} <= set(infra_reports)
    assert infra_reports["terraform"]["summary"]["passed"] > 100
    assert infra_reports["terraform"]["summary"]["parsing_errors"] == 0
    assert infra_reports["dockerfile"]["summary"]["passed"] > 10


def test_checkov_infra_has_zero_failed_checks(infra_reports: dict[str, dict[str, Any]]) -> None:
    for check_type, report in infra_reports.items():
        summary = report["summary"]
        print(
            f"checkov {check_type}: passed={summary['passed']} failed={summary['failed']} "
            f"skipped={summary['skipped']}"
        )
        assert summary["failed"] == 0, "\n".join(_failures(report))


def test_checkov_workflow_has_zero_failed_checks(workflow_report: dict[str, Any]) -> None:
    summary = workflow_report["summary"]
    print(
        f"checkov github_actions: passed={summary['passed']} failed={summary['failed']} "
        f"skipped={summary['skipped']}"
    )
    assert summary["passed"] > 10, "the workflow was not scanned"
    assert summary["failed"] == 0, "\n".join(_failures(workflow_report))


def _annotations() -> list[tuple[Path, str, str]]:
    found = []
    for path in sorted(INFRA.rglob("*")):
        if path.is_file() and path.suffix in {".tf", ".yml", ".yaml", ""}:
            for match in SKIP_ANNOTATION.finditer(path.read_text()):
                found.append((path, match.group(1), (match.group(2) or "").strip()))
    return found


def test_every_checkov_skip_is_annotated_with_a_reason(
    infra_reports: dict[str, dict[str, Any]],
) -> None:
    annotations = _annotations()
    for path, check_id, reason in annotations:
        assert len(reason) >= 20, f"{path.name}: skip of {check_id} needs a real reason"
    skipped = [c for r in infra_reports.values() for c in r["results"]["skipped_checks"]]
    assert skipped, "checkov reported no skipped checks although the code annotates some"
    for check in skipped:
        reason = check["check_result"].get("suppress_comment")
        assert reason, f"{check['check_id']} on {check['resource']} skipped without a reason"
    # A skip that no longer matches any check is stale and hides nothing; remove it.
    assert {c["check_id"] for c in skipped} == {check_id for _, check_id, _ in annotations}


def test_terraform_fmt() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: `terraform fmt -check` not run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"terraform fmt would change files:\n{result.stdout}"
