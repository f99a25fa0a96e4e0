"""The README's "Adopting" section, followed step by step on the plain scenario project."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

from tests.adopt.test_scenarios import CHANGES, LEGACY_HEAD

README = Path(__file__).parents[2] / "README.md"


def adopting_steps() -> list[list[str]]:
    """The commands of the section's first ``bash`` block, comments stripped."""
    text = README.read_text()
    section = text[text.index("## Adopting expandcontract in an existing project") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line]


def test_the_readme_adopting_steps_work(make_project, database_url) -> None:
    project = make_project("plain", database_url)
    assert project.deploy_script().code == 0  # the project's database, before adopting
    column, fill, dropped = CHANGES["plain"]
    steps = adopting_steps()
    assert [s[:2] for s in steps][:3] == [
        ["pip", "install"],
        ["expandcontract", "adopt"],
        ["expandcontract", "check"],
    ]
    upgrades = 0
    for step in steps:
        if step[:2] == ["pip", "install"]:
            continue  # this environment is the installed one
        if step[:2] == ["expandcontract", "mark-stable"]:
            step = [arg if arg != "24h" else "1s" for arg in step]  # a test cannot soak a day
        if step[:2] == ["expandcontract", "upgrade"] and upgrades == 0:
            # Between creating and deploying the revisions, the user writes them.
            project.fill("add_user_bio", f'op.add_column("user", sa.Column("{column}", sa.Text()))')
            project.fill("fill_user_bio", f"op.execute({fill!r})")
            project.fill(
                "drop_user_full_name",
                f'with op.batch_alter_table("user") as batch:\n    batch.drop_column("{dropped}")',
            )
        if step[:2] == ["expandcontract", "upgrade"] and upgrades == 1:
            time.sleep(1.2)  # the (shortened) soak
        result = project.run(*step)
        assert result.code == 0, f"{' '.join(step)}:\n{result.output}"
        if step[:2] == ["expandcontract", "upgrade"]:
            upgrades += 1
            if upgrades == 1:
                assert "contract pending" in result.out
                assert column in project.columns("user") and dropped in project.columns("user")
    assert upgrades == 2
    assert dropped not in project.columns("user")
    assert (project.root / "migrations" / "expandcontract.toml").read_text().count(
        LEGACY_HEAD["plain"]
    ) == 1
