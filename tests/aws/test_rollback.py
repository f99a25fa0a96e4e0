"""``expandcontract rollback`` in each of its three states, and the break-glass listener flip."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from expandcontract.ledger import Event, Ledger
from tests.aws.conftest import Cli, World
from tests.aws.test_release import ledger_entries


def record(database_url: str, event: Event, **fields: object) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            ledger = Ledger(connection)
            ledger.ensure()
            ledger.record(event, **fields)  # type: ignore[arg-type]
    finally:
        engine.dispose()


@pytest.fixture
def deployed(cli: Cli, world: World, database_url: str) -> str:
    """Release v2 went out through CodeDeploy; v1's task definition is the previous one."""
    record(
        database_url,
        Event.RELEASE_DEPLOYED,
        release="v2",
        details={
            "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/ec-app:2",
            "previous_task_definition": world.app_task_definition,
            "previous_release": "v1",
        },
    )
    return world.app_task_definition


def listener_target(world: World) -> str:
    listener = world.clients["elbv2"].describe_listeners(
        ListenerArns=[world.target.prod_listener_arn]
    )["Listeners"][0]
    return str(listener["DefaultActions"][0]["TargetGroupArn"])


def test_during_shift_stops_the_deployment_with_rollback(
    cli: Cli, world: World, deployed: str
) -> None:
    active = world.codedeploy.add_active("InProgress")
    result = cli("rollback")
    assert result.exit_code == 0, result.output
    assert "state: shifting" in result.output
    assert world.codedeploy.stopped == [{"deploymentId": active, "autoRollbackEnabled": True}]
    assert world.codedeploy.created == []


def test_after_shift_redeploys_the_previous_task_definition(
    cli: Cli, world: World, deployed: str, database_url: str
) -> None:
    result = cli("rollback")
    assert result.exit_code == 0, result.output
    assert "state: shifted" in result.output
    [created] = world.codedeploy.created
    spec = json.loads(created["revision"]["appSpecContent"]["content"])
    assert spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == deployed
    # Never a listener flip behind CodeDeploy's back.
    assert listener_target(world) == world.blue
    latest = ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0]
    assert latest.release == "v1"
    assert latest.details["rollback"] is True


def test_after_contract_refuses_and_explains_the_snapshot_restore(
    cli: Cli, world: World, deployed: str, database_url: str
) -> None:
    record(database_url, Event.SNAPSHOT_RECORDED, details={"identifier": "precontract-ec-db-1"})
    record(database_url, Event.CONTRACT_APPLIED, revision="c0ffee", phase="contract")
    result = cli("rollback")
    assert result.exit_code == 1
    assert "state: contracted" in result.output
    assert "contract revision c0ffee was applied" in result.output
    assert "precontract-ec-db-1" in result.output
    assert "--restore-snapshot" in result.output
    assert world.codedeploy.created == [] and world.codedeploy.stopped == []


def test_after_contract_restores_the_snapshot_to_a_new_instance(
    cli: Cli, world: World, deployed: str, database_url: str
) -> None:
    rds = world.clients["rds"]
    rds.create_db_snapshot(DBInstanceIdentifier="ec-db", DBSnapshotIdentifier="precontract-ec-db-1")
    record(database_url, Event.CONTRACT_APPLIED, revision="c0ffee", phase="contract")
    result = cli("rollback", "--restore-snapshot", "precontract-ec-db-1")
    assert result.exit_code == 0, result.output
    restored = rds.describe_db_instances(DBInstanceIdentifier="ec-db-restored-precontract-ec-db-1")
    assert restored["DBInstances"][0]["DBInstanceIdentifier"].startswith("ec-db-restored")
    assert "What must change" in result.output
    assert "DB_HOST" in result.output
    assert deployed in result.output  # the task definition to redeploy afterwards
    # The original database is untouched.
    assert rds.describe_db_instances(DBInstanceIdentifier="ec-db")["DBInstances"]


def test_contract_of_an_earlier_release_does_not_block(
    cli: Cli, world: World, database_url: str
) -> None:
    record(database_url, Event.CONTRACT_APPLIED, revision="old", phase="contract")
    record(
        database_url,
        Event.RELEASE_DEPLOYED,
        release="v2",
        details={"previous_task_definition": world.app_task_definition},
    )
    result = cli("rollback")
    assert result.exit_code == 0, result.output
    assert "state: shifted" in result.output


def test_listener_flip_refuses_a_target_group_without_healthy_targets(
    cli: Cli, world: World, deployed: str
) -> None:
    result = cli("rollback", "--listener")
    assert result.exit_code == 1
    assert "no healthy targets" in result.output
    assert listener_target(world) == world.blue


def test_listener_flip_moves_traffic_when_targets_are_healthy(
    cli: Cli, world: World, deployed: str
) -> None:
    world.clients["elbv2"].register_targets(
        TargetGroupArn=world.green, Targets=[{"Id": "10.0.1.10", "Port": 8000}]
    )
    result = cli("rollback", "--listener")
    assert result.exit_code == 0, result.output
    assert "1 healthy targets" in result.output
    assert listener_target(world) == world.green
