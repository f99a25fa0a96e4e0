"""Releases and rollbacks against the CodeDeploy simulator: the real lifecycle on a fake clock.

The deployment group: linear 10 % every 3 minutes, Ready wait 60 min (STOP_DEPLOYMENT),
termination wait 120 min. A release is done about 40 minutes in; the deployment itself
reports ``InProgress`` for two more hours.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from expandcontract.ledger import Event
from tests.aws.conftest import Cli, World
from tests.aws.fakes import Delegate
from tests.aws.model import validate_request
from tests.aws.simulator import CodeDeploySimulator
from tests.aws.test_release import ledger_entries

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:moto")

NEW_IMAGE = "repo/app:v2"


def release(cli: Cli, *extra: str) -> Any:
    return cli("ecs-release", "--image", NEW_IMAGE, "--skip-lint", "--poll-interval", "30s", *extra)


def new_task_definition(world: World) -> str:
    return world.task_definition_revisions("ec-app")[-1]


def test_healthy_release_outlasting_timeout_in_termination_wait_is_done_without_a_stop(
    cli: Cli, world: World, simulator: CodeDeploySimulator, database_url: str
) -> None:
    result = release(cli, "--timeout", "60m")
    assert result.exit_code == 0, result.output
    assert simulator.operations("stop_deployment") == []
    new = new_task_definition(world)
    assert simulator.production() == {new: 100.0}
    [deployment] = [d for d in simulator.deployments.values()]
    # CodeDeploy still reports InProgress: the original task set's termination wait.
    assert deployment.status == "InProgress" and deployment.termination_started
    [entry] = ledger_entries(database_url, Event.RELEASE_DEPLOYED)
    assert entry.details["confirmed"] is True and entry.details["task_definition"] == new
    assert "wait budget:" in result.output and "termination wait of 2h00m" in result.output
    # Well past the timeout the deployment finishes on its own, on the new release.
    cli.time.sleep(3 * 3600)
    simulator.list_deployments(applicationName="ec", deploymentGroupName="ec-app")
    assert deployment.status == "Succeeded"
    assert simulator.production() == {new: 100.0}


def test_release_is_done_before_the_timeout_and_the_budget_covers_the_shift(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    result = release(cli)
    assert result.exit_code == 0, result.output
    # install 10m + one hook 15m + ready wait up to 60m + shift 30m + margin 10m
    assert "= 2h05m" in result.output
    # Done long before the 120-minute termination wait would have ended.
    assert sum(cli.time.slept) < 60 * 60


def test_rollback_during_the_termination_wait_ends_on_the_previous_release_and_stays(
    cli: Cli, world: World, simulator: CodeDeploySimulator, database_url: str
) -> None:
    assert release(cli).exit_code == 0
    result = cli("rollback", "--poll-interval", "30s")
    assert result.exit_code == 0, result.output
    assert simulator.production() == {world.app_task_definition: 100.0}
    [stop] = simulator.operations("stop_deployment")
    assert stop == {"deploymentId": "d-SIM000000", "autoRollbackEnabled": True}
    rollback = simulator.deployments["d-SIM000001"]
    assert rollback.creator == "codeDeployRollback" and rollback.status == "Succeeded"
    latest = ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0]
    assert latest.details["rollback"] is True
    # Hours later, and after a second `rollback`, traffic is still on the previous release.
    cli.time.sleep(4 * 3600)
    again = cli("rollback", "--poll-interval", "30s")
    assert simulator.production() == {world.app_task_definition: 100.0}
    assert len(simulator.operations("stop_deployment")) == 1, again.output


def test_rollback_never_stops_its_own_redeployment_at_the_timeout(
    cli: Cli, world: World, simulator: CodeDeploySimulator, database_url: str
) -> None:
    assert release(cli).exit_code == 0
    cli.time.sleep(3 * 3600)  # the release finished: the rollback is a redeployment
    simulator.group.ready_action = "CONTINUE_DEPLOYMENT"
    result = cli("rollback", "--poll-interval", "30s", "--timeout", "2m")
    assert result.exit_code == 4, result.output
    assert simulator.operations("stop_deployment") == []
    assert "It was NOT stopped" in result.output
    # It carries on in AWS, and ends on the previous release.
    cli.time.sleep(3600)
    simulator.list_deployments(applicationName="ec", deploymentGroupName="ec-app")
    assert simulator.production() == {world.app_task_definition: 100.0}
    latest = ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0]
    assert latest.details["rollback"] is True and latest.details["confirmed"] is False


def test_failed_after_allow_test_traffic_hook_stops_the_deployment(
    cli: Cli, world: World, simulator: CodeDeploySimulator, database_url: str
) -> None:
    simulator.hook_results["AfterAllowTestTraffic"] = "Failed"
    result = release(cli)
    assert result.exit_code == 1
    assert "lifecycle hook AfterAllowTestTraffic failed" in result.output
    assert simulator.deployments["d-SIM000000"].status == "Failed"
    assert simulator.operations("continue_deployment") == []
    assert simulator.production() == {world.app_task_definition: 100.0}
    assert ledger_entries(database_url, Event.RELEASE_DEPLOYED) == []


def test_a_missing_alarm_refuses_before_anything_changes(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    result = release(cli, "--alarm", "ec-green-5xx-typo")
    assert result.exit_code == 2, result.output
    assert "ec-green-5xx-typo do not exist" in result.output
    assert simulator.operations("create_deployment") == []
    assert len(world.task_definition_revisions("ec-app")) == 1
    assert len(world.task_definition_revisions("ec-migrate")) == 1


def test_composite_alarms_are_found_and_watched(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    # moto 5.2 has no composite alarms: answer DescribeAlarms like CloudWatch does, which
    # returns them only when AlarmTypes asks for them.
    moto_cloudwatch = world.clients["cloudwatch"]
    state = {"value": "OK"}

    def describe_alarms(**params: Any) -> dict[str, Any]:
        validate_request("cloudwatch", "describe_alarms", params)
        answer = moto_cloudwatch.describe_alarms(AlarmNames=params["AlarmNames"])
        if "CompositeAlarm" in params.get("AlarmTypes", []):
            answer["CompositeAlarms"] = [
                {"AlarmName": "ec-green-any", "StateValue": state["value"]}
            ]
        return answer

    world.clients["cloudwatch"] = Delegate(moto_cloudwatch, describe_alarms=describe_alarms)
    result = release(cli, "--alarm", "ec-green-any", "--preflight")
    assert result.exit_code == 0, result.output
    assert "(1 composite)" in result.output
    # Firing mid-shift, it stops the deployment with rollback.
    cli.time.at(timedelta(minutes=20), lambda: state.update(value="ALARM"))
    result = release(cli, "--alarm", "ec-green-any")
    assert result.exit_code == 1, result.output
    assert "alarm ec-green-any" in result.output
    assert simulator.operations("stop_deployment")[0]["autoRollbackEnabled"] is True
    cli.time.sleep(120)
    simulator.list_deployments(applicationName="ec", deploymentGroupName="ec-app")
    assert simulator.production() == {world.app_task_definition: 100.0}


def _break(world: World, simulator: CodeDeploySimulator, what: str) -> list[str]:
    """Misconfigure one thing; the extra command-line arguments that go with it."""
    target = world.target
    if what == "cluster":
        return ["--cluster", "nope"]
    if what == "service":
        return ["--service", "nope"]
    if what == "deployment group":
        return ["--codedeploy-group", "nope"]
    if what == "group target groups":
        simulator.group.target_groups = ("ec-blue", "ec-other")
        return []
    if what == "group listener":
        simulator.group.prod_listener = str(target.test_listener_arn)
        return []
    if what == "listeners":
        return ["--test-listener-arn", str(target.prod_listener_arn).replace("/fa", "/ff")]
    if what == "alarms":
        return ["--alarm", "nope"]
    if what == "roles":
        simulator.group.service_role = "arn:aws:iam::123456789012:role/missing"
        return []
    if what == "image":
        world.clients["ecr"].create_repository(repositoryName="app")
        return ["--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v9"]
    if what == "app task definition":
        return ["--app-task-definition", "ec-app:99"]
    if what == "running deployment":
        simulator.create_deployment(
            applicationName="ec",
            deploymentGroupName="ec-app",
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": json.dumps(
                        {"Resources": [{"TargetService": {"Properties": {"TaskDefinition": "x"}}}]}
                    )
                },
            },
        )
        simulator.calls.clear()
        return []
    raise AssertionError(what)


@pytest.mark.parametrize(
    ("what", "check"),
    [
        ("cluster", "cluster"),
        ("service", "service"),
        ("deployment group", "deployment group"),
        ("group target groups", "deployment group"),
        ("group listener", "deployment group"),
        ("alarms", "alarms"),
        ("roles", "roles"),
        ("image", "image"),
        ("app task definition", "app task definition"),
        ("running deployment", "no deployment running"),
    ],
)
def test_preflight_finds_each_misconfiguration_before_any_side_effect(
    cli: Cli, world: World, simulator: CodeDeploySimulator, what: str, check: str
) -> None:
    extra = _break(world, simulator, what)
    for preflight_only in (True, False):
        args = extra if "--image" in extra else ["--image", NEW_IMAGE, *extra]
        if preflight_only:
            args.append("--preflight")
        result = cli("ecs-release", "--skip-lint", *args)
        assert result.exit_code == 2, result.output
        row = next(line for line in result.output.splitlines() if line.startswith(f"│ {check} "))
        assert "FAIL" in row, result.output
        assert simulator.operations("create_deployment") == []
        assert len(world.task_definition_revisions("ec-app")) == 1
        assert len(world.task_definition_revisions("ec-migrate")) == 1


def test_preflight_alone_passes_and_changes_nothing(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    result = release(cli, "--preflight")
    assert result.exit_code == 0, result.output
    assert "preflight passed: nothing was changed" in result.output
    for check in ("cluster", "service", "deployment group", "listeners", "ledger", "wait budget"):
        assert f"│ {check} " in result.output
    assert simulator.operations("create_deployment") == []
    assert len(world.task_definition_revisions("ec-app")) == 1


def test_appspec_carries_the_service_network_configuration(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    assert release(cli).exit_code == 0
    [created] = simulator.operations("create_deployment")
    spec = json.loads(created["revision"]["appSpecContent"]["content"])
    properties = spec["Resources"][0]["TargetService"]["Properties"]
    network = properties["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["Subnets"] == list(world.target.subnets)
    assert network["SecurityGroups"] == list(world.target.security_groups)
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": "ec-smoke-test"}]


def test_throttling_and_blips_are_retried_through_the_watch(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    simulator.inject("get_deployment", "ThrottlingException", times=3)
    simulator.inject("create_deployment", "ThrottlingException", times=1)
    # More blips in a row than one call retries: the watch reads again next round.
    simulator.inject("get_deployment_target", "ServiceUnavailable", times=12)
    result = release(cli)
    assert result.exit_code == 0, result.output
    assert len(simulator.deployments) == 1
    assert simulator.operations("stop_deployment") == []


def test_expired_credentials_are_renewed_when_the_session_can(
    cli: Cli, world: World, simulator: CodeDeploySimulator
) -> None:
    simulator.inject("get_deployment", "ExpiredTokenException", times=1)
    renewed: list[str] = []

    def renew(service: str) -> Any:
        renewed.append(service)
        return world.clients[service]

    result = cli("ecs-release", "--image", NEW_IMAGE, "--skip-lint", renew=renew)
    assert result.exit_code == 0, result.output
    assert renewed == ["codedeploy"]


def test_expired_credentials_leave_the_deployment_running_and_say_where_it_stands(
    cli: Cli, world: World, simulator: CodeDeploySimulator, database_url: str
) -> None:
    release_fixed = cli.time.now
    simulator.inject("get_deployment", "ExpiredTokenException", times=0)
    original = simulator.__getattr__("get_deployment")
    calls = {"n": 0}

    def expiring(**params: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 60:  # about 30 minutes into the watch the session runs out
            simulator.inject("get_deployment", "ExpiredTokenException", times=1)
        return original(**params)

    world.clients["codedeploy"] = Delegate(simulator, get_deployment=expiring)
    result = release(cli)
    assert result.exit_code == 4, result.output
    assert "credentials expired" in result.output and "NOT stopped" in result.output
    assert simulator.operations("stop_deployment") == []
    [entry] = ledger_entries(database_url, Event.RELEASE_DEPLOYED)
    assert entry.details["confirmed"] is False
    assert entry.details["where"]["deployment_id"] == "d-SIM000000"
    assert cli.time.now - release_fixed < timedelta(hours=1)


def test_the_simulator_rejects_what_aws_would_reject(simulator: CodeDeploySimulator) -> None:
    with pytest.raises(ParamValidationError):
        simulator.stop_deployment(deploymentId="d-1", autoRollbackEnabled="yes")
    with pytest.raises(ParamValidationError):
        simulator.continue_deployment(deploymentId="d-1", deploymentWaitType="SOON")
