"""``upgrade PHASE`` says what it applied (like the deploy form), on stderr, keeping exit codes."""

from __future__ import annotations

import re
from typing import Any

from click.testing import CliRunner

from expandcontract.cli import main


def run(project: Any, *args: str) -> Any:
    return CliRunner().invoke(
        main, [*args, "-c", str(project.ini), "--database-url", project.database_url]
    )


def test_each_phase_names_what_it_applied_then_that_nothing_is_left(project: Any) -> None:
    expand = run(project, "upgrade", "expand")
    migrate = run(project, "upgrade", "migrate")
    again = run(project, "upgrade", "expand")

    assert expand.exit_code == migrate.exit_code == again.exit_code == 0
    assert re.fullmatch(r"applied expand: e1 in \d+\.\ds\n", expand.stderr), expand.stderr
    assert re.fullmatch(r"applied migrate: m1 in \d+\.\ds\n", migrate.stderr), migrate.stderr
    assert again.stderr == "nothing to apply: expand already at e1\n"
    # stdout stays free for machine-readable output (as with the deploy form).
    assert expand.stdout == migrate.stdout == again.stdout == ""


def test_a_refused_contract_keeps_exit_3_and_prints_no_applied_line(project: Any) -> None:
    assert run(project, "upgrade", "expand").exit_code == 0
    refused = run(project, "upgrade", "contract")

    assert refused.exit_code == 3
    assert "applied" not in refused.output and "nothing to apply" not in refused.output


def test_a_forced_contract_says_it_was_forced(project: Any) -> None:
    assert run(project, "upgrade", "expand").exit_code == 0
    assert run(project, "upgrade", "migrate").exit_code == 0
    forced = run(project, "upgrade", "contract", "--force", "--reason", "hotfix 12")

    assert forced.exit_code == 0, forced.output
    assert forced.stderr.startswith("applied contract: c1 in ")
    assert "although the guard refused (forced, recorded)" in forced.stderr


def test_sql_mode_prints_only_the_sql(project: Any) -> None:
    result = run(project, "upgrade", "expand", "--sql")

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE customers" in result.stdout
    assert "applied" not in result.stderr and "nothing to apply" not in result.stderr
