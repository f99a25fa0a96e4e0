"""One check decides whether env.py calls the hook, for the CLI and the linter alike.

A mention is not a call: an env.py that names ``expandcontract.run_migrations`` only in a
comment, a string, an unused import or dead code runs Alembic unguarded, so the CLI refuses
it (judged by outcome: the column the contract would drop is still there) and the linter
reports EC301. A real call through any import form is accepted: the CLI runs, and the guard
it installs refuses the contract.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from expandcontract.cli import main
from expandcontract.envpy import calls_hook
from expandcontract.lint import lint

# An env.py that runs Alembic with no guard at all.
PLAIN = """
import sqlalchemy as sa
from alembic import context

{mention}


def run_plain():
    engine = sa.create_engine(context.config.attributes["expandcontract.database_url"])
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_plain()
"""

UNGUARDED = {
    "comment": "# expandcontract.run_migrations(context, target_metadata=None)",
    "string": (
        '"""Calls expandcontract.run_migrations(context) (it does not)."""\n'
        'HOOK = "expandcontract.run_migrations(context, target_metadata=None)"'
    ),
    "import only": "import expandcontract\nfrom expandcontract import run_migrations",
    "if False": "import expandcontract\nif False:\n    expandcontract.run_migrations(context)",
    "uncalled function": (
        "import expandcontract\n\n\ndef never():\n    expandcontract.run_migrations(context)"
    ),
    "another module's run_migrations": (
        "import mylib_expandcontract as expandcontract_like\n"
        "def f():\n    expandcontract_like.run_migrations(context)\n"
    ),
}

GUARDED = {
    "module attribute": (
        "from alembic import context\nimport expandcontract\n\n"
        "expandcontract.run_migrations(context, target_metadata=None)\n"
    ),
    "aliased module": (
        "from alembic import context\nimport expandcontract as ec\n\n"
        "ec.run_migrations(context, target_metadata=None)\n"
    ),
    "aliased function": (
        "from alembic import context\n"
        "from expandcontract import run_migrations as guarded_run\n\n"
        "def online():\n    guarded_run(context, target_metadata=None)\n\n\n"
        "if context.is_offline_mode():\n    online()\nelse:\n    online()\n"
    ),
    "hook submodule": (
        "from alembic import context\nfrom expandcontract import hook\n\n"
        "def do_run(connection=None):\n    hook.run_migrations(context)\n\n\n"
        "def main(runner):\n    runner(do_run)\n\n\nmain(lambda fn: fn())\n"
    ),
}


def _cli(project: Any, *args: str) -> Any:
    return CliRunner().invoke(
        main, [*args, "-c", str(project.ini), "--database-url", project.database_url]
    )


def _ec301(project: Any) -> bool:
    result = lint(str(project.ini))
    return any(finding.rule == "EC301" for finding in result.findings)


@pytest.mark.parametrize("shape", sorted(UNGUARDED))
def test_a_mention_of_the_hook_is_not_a_call(project: Any, shape: str) -> None:
    env = project.root / "migrations" / "env.py"
    env.write_text(PLAIN.format(mention=UNGUARDED[shape]))
    assert not calls_hook(env.read_text())
    result = _cli(project, "upgrade", "contract", "--force", "--reason", "try the route")
    assert result.exit_code == 2, result.output
    assert "does not call expandcontract" in result.output
    # Nothing ran: no table, so certainly no dropped column.
    assert project.sql("SELECT to_regclass('public.customers') IS NULL")[0][0]
    assert _ec301(project)


@pytest.mark.parametrize("shape", sorted(GUARDED))
def test_a_real_call_through_any_import_form_is_the_hook(project: Any, shape: str) -> None:
    env = project.root / "migrations" / "env.py"
    env.write_text(GUARDED[shape])
    assert calls_hook(env.read_text())
    assert not _ec301(project)
    assert _cli(project, "upgrade", "migrate").exit_code == 0
    refused = _cli(project, "upgrade", "contract")
    assert refused.exit_code == 3, refused.output  # the hook's guard: nothing marked stable
    assert "address" in project.columns()
