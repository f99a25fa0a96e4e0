"""``expandcontract contract``: the production path, on a real phase-branched project."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config

from expandcontract.api import upgrade_phase
from expandcontract.ledger import Event, Ledger
from expandcontract.phases import Phase
from expandcontract.scaffold import init_environment
from tests.aws.conftest import Cli, World
from tests.aws.test_release import ledger_entries

REVISIONS = {
    "e1": (
        ("expand",),
        None,
        'op.create_table("customers", sa.Column("id", sa.Integer, '
        'primary_key=True), sa.Column("address", sa.Text), sa.Column("city", sa.Text))',
    ),
    "m1": (
        ("migrate",),
        "e1",
        "op.execute(\"UPDATE customers SET city = 'x' WHERE city IS NULL\")",
    ),
    "c1": (("contract",), ("e1", "m1"), 'op.drop_column("customers", "address")'),
}


def write_project(root: Path) -> Path:
    init_environment(root / "migrations", root / "alembic.ini")
    for rev, (labels, deps, body) in REVISIONS.items():
        (root / "migrations" / "versions" / f"{rev}.py").write_text(
            "\n".join(
                [
                    "import sqlalchemy as sa",
                    "from alembic import op",
                    f"revision = {rev!r}",
                    "down_revision = None",
                    f"branch_labels = {labels!r}",
                    f"depends_on = {deps!r}",
                    "def upgrade():",
                    f"    {body}",
                    "def downgrade():",
                    "    pass",
                    "",
                ]
            )
        )
    return root / "alembic.ini"


@pytest.fixture
def soaked(
    cli: Cli, world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Config:
    """Expand and migrate applied, release v2 marked stable, green healthy for 25 h since.

    The guard reads the database's clock, so the mark is stamped now with no soak left, and the
    fake clock the metrics are read by moves 25 h past it.
    """
    monkeypatch.chdir(tmp_path)
    ini = write_project(tmp_path)
    config = Config(str(ini))
    config.attributes["expandcontract.database_url"] = database_url
    upgrade_phase(config, Phase.EXPAND)
    upgrade_phase(config, Phase.MIGRATE)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        mark = Ledger(connection).record_stable("v2", soak=timedelta(0))
    engine.dispose()
    cli.time.now = mark.stable_at.replace(microsecond=0) + timedelta(hours=25)
    half_hours = [cli.time.now - timedelta(minutes=30 * i + 10) for i in range(50)]
    world.put_metrics(world.blue, half_hours, requests=300, errors=0, latency=0.04)
    cli.database_url = database_url
    cli.config_path = str(ini)
    return config


def columns(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {c["name"] for c in sa.inspect(connection).get_columns("customers")}
    finally:
        engine.dispose()


def manual_snapshots(world: World) -> list[str]:
    found = world.clients["rds"].describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return [s["DBSnapshotIdentifier"] for s in found]


def test_contract_snapshots_then_applies(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    result = cli("contract")
    assert result.exit_code == 0, result.output
    for step in (
        "[1/5] guard",
        "[2/5] metrics",
        "[3/5] deployments",
        "[4/5] snapshot",
        "[5/5] contract",
    ):
        assert step in result.output
    [snapshot] = manual_snapshots(world)
    assert "address" not in columns(database_url)
    [recorded] = ledger_entries(database_url, Event.SNAPSHOT_RECORDED)
    assert recorded.details["identifier"] == snapshot
    [applied] = ledger_entries(database_url, Event.CONTRACT_APPLIED)
    assert applied.revision == "c1" and applied.id > recorded.id


def test_contract_reuses_a_snapshot_recorded_after_the_stable_mark(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    first = cli("snapshot")
    assert first.exit_code == 0, first.output
    result = cli("contract")
    assert result.exit_code == 0, result.output
    assert "reusing snapshot" in result.output
    assert len(manual_snapshots(world)) == 1
    assert "address" not in columns(database_url)


def test_contract_refused_before_the_soak_ends(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        Ledger(connection).record_stable("v3", soak=timedelta(hours=24))
    engine.dispose()
    result = cli("contract")
    assert result.exit_code == 3
    assert "contract allowed at" in result.output
    assert manual_snapshots(world) == []
    assert "address" in columns(database_url)


def test_contract_refused_when_green_was_unhealthy_during_the_soak(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    world.put_metrics(
        world.blue, [cli.time.now - timedelta(hours=3)], requests=100, errors=60, latency=0.04
    )
    result = cli("contract")
    assert result.exit_code == 3
    assert "green is not healthy over the soak window" in result.output
    assert "address" in columns(database_url)


def test_contract_refused_while_a_deployment_is_in_progress(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    world.codedeploy.add_active("Ready")
    result = cli("contract")
    assert result.exit_code == 3
    assert "is in progress" in result.output
    [refused] = ledger_entries(database_url, Event.CONTRACT_REFUSED)
    assert refused.details["revisions"] == ["c1"]
    assert manual_snapshots(world) == []
    assert "address" in columns(database_url)


def test_contract_dry_run_applies_nothing(
    cli: Cli, world: World, soaked: Config, database_url: str
) -> None:
    result = cli("contract", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "[dry-run] would call rds.create_db_snapshot" in result.output
    assert "[dry-run] would apply c1" in result.output
    # The soak-window total and its periods come from one metrics query.
    assert result.output.count("would call cloudwatch.get_metric_data") == 1
    assert manual_snapshots(world) == []
    assert "address" in columns(database_url)
    assert ledger_entries(database_url, Event.SNAPSHOT_RECORDED) == []
