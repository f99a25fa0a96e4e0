"""Autogenerate with the env.py hook splits changes into expand and contract revisions.

These tests need a real database (autogenerate compares models with it).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from expandcontract.cli import main
from expandcontract.errors import ExpandContractError
from expandcontract.lint import lint
from expandcontract.phases import Phase, phase_of
from expandcontract.scaffold import create_revision, init_environment

ENV = """
import runpy

from alembic import context

import expandcontract

# Read fresh every run: the tests rewrite models.py between revisions.
target_metadata = runpy.run_path("models.py")["metadata"]

expandcontract.run_migrations(context, target_metadata=target_metadata)
"""

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
{columns}
)
"""


def _models(folder: Path, *columns: str) -> None:
    body = "\n".join(f"    {column}," for column in columns)
    (folder / "models.py").write_text(MODELS.format(columns=body))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Config:
    """A guarded project whose database holds customers(id, name, address)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    init_environment("migrations", "alembic.ini")
    (tmp_path / "migrations" / "env.py").write_text(textwrap.dedent(ENV))
    (tmp_path / "pyproject.toml").write_text("[tool.expandcontract]\n")
    _models(tmp_path, 'sa.Column("name", sa.String(100))', 'sa.Column("address", sa.Text)')
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))  # ini escaping
    created = create_revision(config, Phase.EXPAND, "customers", autogenerate=True)
    assert [phase_of(s) for s in created] == [Phase.EXPAND]
    command.upgrade(config, "heads")
    return config


def _revisions(config: Config) -> dict[str, object]:
    return {s.revision: s for s in ScriptDirectory.from_config(config).walk_revisions()}


def test_additive_and_destructive_changes_land_in_expand_and_contract(project: Config) -> None:
    before = set(_revisions(project))
    _models(
        Path.cwd(),
        'sa.Column("name", sa.String(100))',
        'sa.Column("street", sa.Text)',
        'sa.Column("city", sa.Text)',
    )
    command.revision(project, message="split address", autogenerate=True, head="expand@head")
    new = {rid: s for rid, s in _revisions(project).items() if rid not in before}
    by_phase = {phase_of(s): s for s in new.values()}
    assert set(by_phase) == {Phase.EXPAND, Phase.CONTRACT}
    expand, contract = by_phase[Phase.EXPAND], by_phase[Phase.CONTRACT]
    expand_source = Path(expand.path).read_text()
    contract_source = Path(contract.path).read_text()
    assert "op.add_column('customers', sa.Column('street'" in expand_source
    assert "drop_column" not in expand_source.split("def downgrade")[0]
    assert "op.drop_column('customers', 'address')" in contract_source
    assert "add_column" not in contract_source.split("def downgrade")[0]
    # The contract finishes the expand: it depends on it, on its own branch.
    dependencies = contract.dependencies
    assert expand.revision in ((dependencies,) if isinstance(dependencies, str) else dependencies)
    assert contract.branch_labels == {"contract"}
    # And the linter is happy with what autogenerate wrote.
    findings = lint("alembic.ini", select=["EC1", "EC2", "EC305"]).findings
    assert [f for f in findings if f.revision in new] == []


def test_only_additive_changes_make_one_expand_revision(
    project: Config, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    before = set(_revisions(project))
    _models(
        Path.cwd(),
        'sa.Column("name", sa.String(100))',
        'sa.Column("address", sa.Text)',
        'sa.Column("email", sa.Text)',
    )
    result = CliRunner().invoke(
        main, ["revision", "--phase", "expand", "-m", "email", "--autogenerate"]
    )
    assert result.exit_code == 0, result.output
    new = [s for rid, s in _revisions(project).items() if rid not in before]
    assert [phase_of(s) for s in new] == [Phase.EXPAND]


def _new_source(config: Config, before: set[str]) -> str:
    (script,) = [s for rid, s in _revisions(config).items() if rid not in before]
    return Path(script.path).read_text()


def test_indexes_are_built_and_dropped_concurrently(project: Config) -> None:
    before = set(_revisions(project))
    _models(
        Path.cwd(), 'sa.Column("name", sa.String(100), index=True)', 'sa.Column("address", sa.Text)'
    )
    command.revision(project, message="index name", autogenerate=True, head="expand@head")
    upgrade = _new_source(project, before).split("def downgrade")[0]
    assert "op.expand_create_index('ix_customers_name', 'customers', ['name'])" in upgrade
    command.upgrade(project, "expand@head")  # builds it outside the revision's transaction

    before = set(_revisions(project))
    _models(Path.cwd(), 'sa.Column("name", sa.String(100))', 'sa.Column("address", sa.Text)')
    command.revision(project, message="drop index", autogenerate=True, head="expand@head")
    upgrade = _new_source(project, before).split("def downgrade")[0]
    assert "op.contract_drop_index('ix_customers_name', 'customers', columns=['name'])" in upgrade
    assert lint("alembic.ini", select=["EC1", "EC2"]).findings == []


def test_type_change_fails_loudly_and_names_the_pattern(project: Config) -> None:
    before = set(_revisions(project))
    _models(Path.cwd(), 'sa.Column("name", sa.String(100))', 'sa.Column("address", sa.String(50))')
    with pytest.raises(ExpandContractError, match="rewrites.*change_column_type pattern"):
        command.revision(project, message="narrow address", autogenerate=True, head="expand@head")
    assert set(_revisions(project)) == before


def test_a_widening_postgres_makes_in_place_goes_to_expand(project: Config) -> None:
    """varchar(100) -> text touches no row (measured in tests/sql/test_type_changes.py)."""
    before = set(_revisions(project))
    _models(Path.cwd(), 'sa.Column("name", sa.Text)', 'sa.Column("address", sa.Text)')
    command.revision(project, message="widen name", autogenerate=True, head="expand@head")
    (new,) = [s for rid, s in _revisions(project).items() if rid not in before]
    assert phase_of(new) is Phase.EXPAND
    command.upgrade(project, "expand@head")
    assert lint("alembic.ini", select=["EC104"]).findings == []


def test_rename_seen_as_drop_and_add_fails_loudly(project: Config) -> None:
    _models(Path.cwd(), 'sa.Column("full_name", sa.String(100))', 'sa.Column("address", sa.Text)')
    with pytest.raises(ExpandContractError, match="looks like a rename.*rename_column pattern"):
        command.revision(project, message="rename", autogenerate=True, head="expand@head")


def test_not_null_column_without_default_is_refused(project: Config) -> None:
    _models(
        Path.cwd(),
        'sa.Column("name", sa.String(100))',
        'sa.Column("address", sa.Text)',
        'sa.Column("tier", sa.Text, nullable=False)',
    )
    with pytest.raises(ExpandContractError, match="add_not_null_column pattern"):
        command.revision(project, message="tier", autogenerate=True, head="expand@head")
