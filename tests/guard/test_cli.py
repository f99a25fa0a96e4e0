"""The command line: exit codes, JSON fields, help text and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from expandcontract.cli import COMMANDS, main


def run(project: Any, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(
        main, [*args, "-c", str(project.ini), "--database-url", project.database_url]
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = main.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None and command.help, f"{name} has no help text"


def test_the_story_through_the_cli(project: Any) -> None:
    assert run(project, "upgrade", "expand").exit_code == 0
    assert run(project, "upgrade", "migrate").exit_code == 0
    refused = run(project, "upgrade", "contract")
    assert refused.exit_code == 3
    assert "no release has been marked stable" in refused.output
    early = run(project, "mark-stable", "green", "--soak", "1h", "--at", "2026-01-01T00:00:00Z")
    assert early.exit_code == 0, early.output
    assert "contract allowed from 2026-01-01T01:00:00+00:00" in early.output
    # Stable since before the expand was applied: it never ran on the expanded schema.
    assert run(project, "upgrade", "contract").exit_code == 3
    assert "address" in project.columns()
    marked = run(project, "mark-stable", "green", "--soak", "0s")
    assert marked.exit_code == 0, marked.output
    applied = run(project, "upgrade", "contract")
    assert applied.exit_code == 0, applied.output
    assert "address" not in project.columns()


def test_status_json_fields(project: Any) -> None:
    run(project, "upgrade", "expand")
    run(project, "mark-stable", "green", "--soak", "2h", "--at", "2026-11-26T08:00:00Z")
    result = run(project, "status", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["heads"] == {"expand": ["e1"], "migrate": [], "contract": []}
    assert report["pending"] == {"expand": [], "migrate": ["m1"], "contract": ["c1"]}
    assert report["stable"] == {
        "release": "green",
        "stable_at": "2026-11-26T08:00:00+00:00",
        "soak_seconds": 7200.0,
    }
    assert report["contract_allowed"] is False  # m1 was never applied before the mark
    assert report["contract_allowed_at"] == "2026-11-26T10:00:00+00:00"


def test_status_before_anything_has_no_stable_mark(project: Any) -> None:
    report = json.loads(run(project, "status", "--format", "json").output)
    assert report["stable"] is None
    assert report["contract_allowed"] is False
    assert report["contract_allowed_at"] is None


def test_forced_contract_through_the_cli_needs_a_reason(project: Any) -> None:
    missing = run(project, "upgrade", "contract", "--force")
    assert missing.exit_code == 2
    assert "--force needs --reason" in missing.output
    # Not a fresh database (that one would get every phase without the guard, DESIGN §12).
    assert run(project, "upgrade", "expand").exit_code == 0
    forced = run(project, "upgrade", "contract", "--force", "--reason", "hotfix 12")
    assert forced.exit_code == 0, forced.output
    assert ("contract_forced", None) in project.ledger_events()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mark-stable", "green", "--soak", "soon"], "cannot parse duration 'soon'"),
        (["mark-stable", "green", "--at", "yesterday"], "cannot parse timestamp 'yesterday'"),
        (["upgrade", "sideways"], "Invalid value for"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    project: Any, args: list[str], message: str
) -> None:
    result = run(project, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreachable_database(project: Any) -> None:
    result = CliRunner().invoke(
        main,
        ["status", "-c", str(project.ini), "--database-url", "postgresql://postgres@127.0.0.1:1/x"],
    )
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output


def test_missing_config_file(tmp_path: Any) -> None:
    result = CliRunner().invoke(main, ["status", "-c", str(tmp_path / "nope.ini")])
    assert result.exit_code == 2
    assert "no Alembic config" in result.output


def test_env_py_without_the_hook_says_what_line_to_add(project: Any) -> None:
    env = project.root / "migrations" / "env.py"
    env.write_text("from alembic import context\ncontext.configure(url='x')\n")
    result = run(project, "upgrade", "expand")
    assert result.exit_code == 2
    assert (
        "expandcontract.run_migrations(context, target_metadata=target_metadata)" in result.output
    )


def test_revision_on_no_phase_branch(project: Any) -> None:
    (project.versions / "x1.py").write_text(
        "revision = 'x1'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
    )
    result = run(project, "upgrade", "expand")
    assert result.exit_code == 2
    assert "revision x1" in result.output and "is on no phase branch" in result.output


def test_two_heads_on_one_branch(project: Any) -> None:
    for rev in ("e2", "e3"):
        (project.versions / f"{rev}.py").write_text(
            f"revision = '{rev}'\ndown_revision = 'e1'\nbranch_labels = None\ndepends_on = None\n"
            "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
        )
    result = run(project, "upgrade", "expand")
    assert result.exit_code == 2
    assert "the expand branch has 2 heads (e2, e3)" in result.output


def test_unknown_phase_for_a_new_revision(project: Any) -> None:
    result = CliRunner().invoke(
        main, ["revision", "--phase", "deploy", "-m", "x", "-c", str(project.ini)]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--phase'" in result.output


def test_init_and_revision_build_the_branches(tmp_path: Any, monkeypatch: Any) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from expandcontract.phases import Phase, branch_heads, phase_of

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init", "migrations"]).exit_code == 0
    assert "expandcontract.run_migrations" in (tmp_path / "migrations" / "env.py").read_text()
    created = {}
    for phase in ("expand", "migrate", "contract"):
        result = runner.invoke(main, ["revision", "--phase", phase, "-m", f"{phase} step"])
        assert result.exit_code == 0, result.output
        created[phase] = result.output.split("created ")[1].split()[0]
    script = ScriptDirectory.from_config(Config("alembic.ini"))
    assert {p: branch_heads(script)[p] for p in Phase} == {
        Phase.EXPAND: [created["expand"]],
        Phase.MIGRATE: [created["migrate"]],
        Phase.CONTRACT: [created["contract"]],
    }
    migrate = script.get_revision(created["migrate"])
    contract = script.get_revision(created["contract"])
    assert migrate is not None and contract is not None
    assert set(migrate._resolved_dependencies) == {created["expand"]}
    assert set(contract._resolved_dependencies) == {created["expand"], created["migrate"]}
    assert phase_of(contract) is Phase.CONTRACT
    assert "Phase: contract" in Path(contract.path).read_text()
    second = runner.invoke(main, ["revision", "--phase", "expand", "-m", "more"])
    assert second.exit_code == 0, second.output
    new_id = second.output.split("created ")[1].split()[0]
    fresh = ScriptDirectory.from_config(Config("alembic.ini"))
    assert branch_heads(fresh)[Phase.EXPAND] == [new_id]
    new = fresh.get_revision(new_id)
    assert new is not None and new.down_revision == created["expand"]
