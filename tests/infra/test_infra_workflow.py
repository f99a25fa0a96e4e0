"""The example GitHub Actions workflow (infra/ci/github-actions.yml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from expandcontract.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = REPO_ROOT / "infra" / "ci" / "github-actions.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    parsed = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(parsed, dict)
    return parsed


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def run_scripts(workflow: dict[Any, Any]) -> list[str]:
    return [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]


def invocations(workflow: dict[Any, Any]) -> list[tuple[str, set[str]]]:
    """(subcommand, --options) of every `expandcontract` call in the workflow's scripts."""
    found = []
    for script in run_scripts(workflow):
        for line in script.replace("\\\n", " ").splitlines():
            for command, rest in re.findall(r"\bexpandcontract\s+([a-z][a-z-]*)(.*)", line):
                found.append((command, set(re.findall(r"(?<!\S)--[a-z][a-z-]*", rest))))
    return found


def test_workflow_parses_with_the_expected_jobs(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the bare key `on` as the boolean True.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert set(triggers) == {"push", "pull_request"}
    assert set(workflow["jobs"]) == {"test", "migration-lint", "release"}
    assert workflow["permissions"] == {"contents": "read"}


def test_workflow_calls_only_commands_and_options_that_exist(workflow: dict[Any, Any]) -> None:
    calls = invocations(workflow)
    assert {"check", "ecs-release"} <= {command for command, _ in calls}
    for command, options in calls:
        cli_command = main.get_command(click.Context(main), command)
        assert cli_command is not None, f"expandcontract has no command {command!r}"
        known = {opt for param in cli_command.params for opt in param.opts}
        assert options <= known, f"expandcontract {command}: unknown {sorted(options - known)}"
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0, result.output


def test_tests_run_against_real_postgresql(workflow: dict[Any, Any]) -> None:
    test_steps = steps(workflow, "test")
    pytest_step = next(s for s in test_steps if "pytest" in s.get("run", ""))
    assert pytest_step["env"]["EXPANDCONTRACT_TEST_DATABASE_URL"].startswith("postgresql://")
    assert "postgres" in workflow["jobs"]["test"]["services"]


def test_sarif_is_uploaded_even_when_the_linter_finds_errors(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["migration-lint"]
    assert job["permissions"]["security-events"] == "write"
    lint = next(s for s in job["steps"] if "expandcontract check" in s.get("run", ""))
    assert "expandcontract check --format sarif > results.sarif" in lint["run"]
    upload = next(s for s in job["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "results.sarif"
    assert upload["if"] == "always()"
    gate = job["steps"][-1]
    assert gate["if"] == f"steps.{lint['id']}.outputs.exit_status != '0'"


def test_release_builds_the_image_and_calls_ecs_release(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["release"]
    assert set(job["needs"]) == {"test", "migration-lint"}
    assert "refs/heads/main" in job["if"] and "push" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    scripts = [s.get("run", "") for s in job["steps"]]
    order = {
        "outputs": next(i for i, s in enumerate(scripts) if "terraform output -json" in s),
        "build": next(i for i, s in enumerate(scripts) if "docker build" in s),
        "release": next(i for i, s in enumerate(scripts) if "expandcontract ecs-release" in s),
    }
    assert order["outputs"] < order["build"] < order["release"]
    assert "-f infra/docker/Dockerfile" in scripts[order["build"]]
    assert "docker push" in scripts[order["build"]]
    assert "--from-terraform outputs.json" in scripts[order["release"]]
    assert '--image "$IMAGE"' in scripts[order["release"]]


def test_no_expressions_inside_run_scripts(workflow: dict[Any, Any]) -> None:
    """`${{ }}` inside a script is the classic Actions injection hole; values go through env."""
    for script in run_scripts(workflow):
        assert "${{" not in script, script
