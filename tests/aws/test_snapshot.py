"""``expandcontract snapshot``: identifier computed once, waited for, recorded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsTimeout
from expandcontract.aws.snapshot import snapshot_identifier, take_snapshot
from expandcontract.ledger import Event
from tests.aws.conftest import Cli, World
from tests.aws.fakes import Delegate, FakeTime, throttling
from tests.aws.test_release import ledger_entries

VALID = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")


@pytest.mark.parametrize(
    "source",
    ["ec-db", "Prod_DB.main", "1db", "x" * 80, "a--b", "db-"],
)
def test_identifier_is_always_valid(source: str) -> None:
    identifier = snapshot_identifier(source, datetime(2026, 11, 26, 9, 30, 5, tzinfo=UTC))
    assert VALID.match(identifier), identifier
    assert identifier.endswith("20261126-093005")


def test_identifier_computed_once_across_retries_and_a_moving_clock(
    cli: Cli, world: World, database_url: str, fake_time: FakeTime
) -> None:
    rds = world.clients["rds"]
    attempts: list[str] = []

    def create_db_snapshot(**params: Any) -> dict[str, Any]:
        attempts.append(params["DBSnapshotIdentifier"])
        if len(attempts) == 1:
            raise throttling("CreateDBSnapshot")
        return rds.create_db_snapshot(**params)

    statuses = iter(["creating", "creating", "available"])

    def describe_db_snapshots(**params: Any) -> dict[str, Any]:
        answer = rds.describe_db_snapshots(**params)
        answer["DBSnapshots"][0]["Status"] = next(statuses)
        return answer

    clients = {
        **world.clients,
        "rds": Delegate(
            rds, create_db_snapshot=create_db_snapshot, describe_db_snapshots=describe_db_snapshots
        ),
    }
    result = cli("snapshot", "--poll-interval", "60s", clients=clients)
    assert result.exit_code == 0, result.output
    assert len(set(attempts)) == 1 and len(attempts) == 2
    [identifier] = set(attempts)
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier="ec-db", SnapshotType="manual")[
        "DBSnapshots"
    ]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == [identifier]
    [entry] = ledger_entries(database_url, Event.SNAPSHOT_RECORDED)
    assert entry.details["identifier"] == identifier
    assert fake_time.slept.count(60.0) == 2  # waited while it was "creating"


def test_snapshot_wait_times_out_with_a_hint(world: World, fake_time: FakeTime) -> None:
    rds = world.clients["rds"]

    def describe_db_snapshots(**params: Any) -> dict[str, Any]:
        answer = rds.describe_db_snapshots(**params)
        answer["DBSnapshots"][0]["Status"] = "creating"
        return answer

    aws = Aws(
        clients={"rds": Delegate(rds, describe_db_snapshots=describe_db_snapshots)},
        sleep=fake_time.sleep,
    )
    with pytest.raises(AwsTimeout, match="re-run with --identifier"):
        take_snapshot(
            aws,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            echo=lambda _: None,
            db_instance="ec-db",
            timeout=timedelta(hours=3),
            poll_interval=600,
        )
    assert sum(fake_time.slept) >= 3 * 3600


def test_snapshot_needs_a_database(cli: Cli, world: World, tmp_path: Any) -> None:
    from dataclasses import replace

    from tests.aws.conftest import write_terraform_outputs

    cli.terraform = write_terraform_outputs(
        replace(world.target, db_instance_identifier=None), tmp_path / "no-db.json"
    )
    result = cli("snapshot")
    assert result.exit_code == 2
    assert "db_instance_identifier: --db-instance" in result.output


def test_aurora_cluster_snapshot(world: World, fake_time: FakeTime) -> None:
    rds = world.clients["rds"]
    rds.create_db_cluster(
        DBClusterIdentifier="ec-aurora",
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword="secret-password",
    )
    aws = Aws(clients=world.clients, sleep=fake_time.sleep)
    taken = take_snapshot(
        aws,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        echo=lambda _: None,
        db_cluster="ec-aurora",
    )
    assert taken.kind == "cluster"
    found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=taken.identifier)
    assert found["DBClusterSnapshots"][0]["DBClusterIdentifier"] == "ec-aurora"


def test_snapshot_of_another_instance_is_never_reused(world: World, fake_time: Any) -> None:
    from expandcontract.aws.clients import Aws
    from expandcontract.aws.errors import AwsConfigurationError
    from expandcontract.aws.snapshot import take_snapshot

    rds = world.clients["rds"]
    rds.create_db_instance(
        DBInstanceIdentifier="other-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
    )
    rds.create_db_snapshot(DBInstanceIdentifier="other-db", DBSnapshotIdentifier="pre-1")
    aws = Aws(clients=world.clients, sleep=fake_time.sleep)
    with pytest.raises(AwsConfigurationError, match="taken of other-db, not ec-db"):
        take_snapshot(
            aws,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            echo=lambda line: None,
            db_instance="ec-db",
            identifier="pre-1",
        )


def test_snapshot_from_before_the_stable_mark_is_never_reused(world: World, fake_time: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from expandcontract.aws.clients import Aws
    from expandcontract.aws.errors import AwsConfigurationError
    from expandcontract.aws.snapshot import take_snapshot

    world.clients["rds"].create_db_snapshot(
        DBInstanceIdentifier="ec-db", DBSnapshotIdentifier="pre-2"
    )
    aws = Aws(clients=world.clients, sleep=fake_time.sleep)
    kwargs: dict[str, Any] = {
        "clock": fake_time.clock,
        "sleep": fake_time.sleep,
        "echo": lambda line: None,
        "db_instance": "ec-db",
        "identifier": "pre-2",
    }
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(AwsConfigurationError, match="before the stable mark"):
        take_snapshot(aws, not_before=later, **kwargs)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    assert take_snapshot(aws, not_before=earlier, **kwargs).identifier == "pre-2"
