"""``expandcontract ecs-release`` against moto (ECS, ELBv2, CloudWatch) and a fake CodeDeploy."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from expandcontract.ledger import Event, Ledger
from tests.aws.conftest import Cli, World
from tests.aws.fakes import Delegate, Step

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:moto")


def ledger_entries(database_url: str, event: Event) -> list[Any]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return Ledger(connection).entries(event)
    finally:
        engine.dispose()


def release(cli: Cli, *extra: str) -> Any:
    return cli("ecs-release", "--image", "repo/app:v2", "--app-version", "green", *extra)


def test_happy_path_migrates_registers_deploys_and_records(
    cli: Cli, world: World, database_url: str
) -> None:
    result = release(cli)
    assert result.exit_code == 0, result.output
    out = result.output
    for step in (
        "[1/7] preflight",
        "[2/7] lint",
        "[3/7] migrate",
        "[4/7] register",
        "[5/7] deploy",
        "[6/7] watch",
        "[7/7] record",
    ):
        assert step in out
    assert "expandcontract upgrade expand" in out and "expandcontract upgrade migrate" in out
    assert "ecs/migrate/" in out  # the log stream of the migration task
    assert "traffic on green: 50%" in out and "traffic on green: 100%" in out
    assert "lifecycle AfterAllowTestTraffic: Succeeded" in out

    ecs = world.clients["ecs"]
    new_arn = world.task_definition_revisions("ec-app")[-1]
    assert new_arn.endswith("ec-app:2")
    described = ecs.describe_task_definition(taskDefinition=new_arn, include=["TAGS"])
    container = described["taskDefinition"]["containerDefinitions"][0]
    assert container["image"] == "repo/app:v2"
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env == {"APP_VERSION": "green", "LOG": "info"}
    assert described["tags"] == [{"key": "team", "value": "payments"}]
    assert world.task_definition_revisions("ec-migrate")[-1].endswith("ec-migrate:2")

    created = world.codedeploy.created[0]
    spec = json.loads(created["revision"]["appSpecContent"]["content"])
    props = spec["Resources"][0]["TargetService"]["Properties"]
    assert props["TaskDefinition"] == new_arn
    assert props["LoadBalancerInfo"] == {"ContainerName": "app", "ContainerPort": 8000}
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": "ec-smoke-test"}]

    [deployed] = ledger_entries(database_url, Event.RELEASE_DEPLOYED)
    assert deployed.release == "v2"
    assert deployed.details["task_definition"] == new_arn
    assert deployed.details["previous_task_definition"] == world.app_task_definition
    assert ledger_entries(database_url, Event.RELEASE_STABLE) == []


def test_mark_stable_after_watches_then_records_the_stable_mark(
    cli: Cli, world: World, database_url: str
) -> None:
    result = release(cli, "--mark-stable-after", "30m", "--soak", "24h", "--poll-interval", "60s")
    assert result.exit_code == 0, result.output
    [stable] = ledger_entries(database_url, Event.RELEASE_STABLE)
    assert stable.release == "v2"
    assert stable.details["soak_seconds"] == 86400
    assert sum(cli.time.slept) >= 30 * 60


def test_lint_errors_stop_the_release_before_any_aws_change(cli: Cli, world: World) -> None:
    cli.linter = lambda config_path: 1
    result = release(cli)
    assert result.exit_code == 1
    assert "found errors" in result.output
    assert len(world.task_definition_revisions("ec-app")) == 1
    assert world.codedeploy.created == []


def test_failed_deployment_exits_non_zero_with_the_reason(cli: Cli, world: World) -> None:
    world.codedeploy.steps = [
        Step("InProgress", 0.0),
        Step("Failed", 0.0, error="The ECS service cannot reach a steady state"),
    ]
    result = release(cli)
    assert result.exit_code == 1
    assert "deployment Failed: The ECS service cannot reach a steady state" in result.output
    # CodeDeploy already rolled back a failed deployment; nothing to stop.
    assert world.codedeploy.stopped == []


def test_alarm_mid_shift_stops_the_deployment_with_rollback(cli: Cli, world: World) -> None:
    cloudwatch = world.clients["cloudwatch"]
    cli.time.at(
        timedelta(seconds=20),
        lambda: cloudwatch.set_alarm_state(
            AlarmName="ec-green-5xx", StateValue="ALARM", StateReason="Threshold crossed"
        ),
    )
    world.codedeploy.steps = [Step("InProgress", 10.0 * i) for i in range(1, 10)]
    result = release(cli)
    assert result.exit_code == 1
    assert "alarm ec-green-5xx (Threshold crossed)" in result.output
    assert world.codedeploy.stopped == [{"deploymentId": "d-FAKE0", "autoRollbackEnabled": True}]


def test_green_5xx_divergence_rolls_back(cli: Cli, world: World) -> None:
    minutes = cli.time.minutes(90)
    world.put_metrics(world.blue, minutes, requests=500, errors=1, latency=0.05)
    world.put_metrics(world.green, minutes, requests=100, errors=12, latency=0.06)
    world.codedeploy.steps = [Step("InProgress", 10.0 * i) for i in range(1, 10)]
    result = release(cli, "--poll-interval", "60s")
    assert result.exit_code == 1
    assert "green 5XX rate" in result.output and "exceeds blue's" in result.output
    assert world.codedeploy.stopped[0]["autoRollbackEnabled"] is True


def test_similar_green_and_blue_do_not_diverge(cli: Cli, world: World, database_url: str) -> None:
    minutes = cli.time.minutes(90)
    world.put_metrics(world.blue, minutes, requests=500, errors=2, latency=0.05)
    world.put_metrics(world.green, minutes, requests=100, errors=0, latency=0.055)
    result = release(cli, "--poll-interval", "60s")
    assert result.exit_code == 0, result.output
    assert world.codedeploy.stopped == []


def test_migration_task_exit_code_is_propagated(cli: Cli, world: World) -> None:
    ecs = world.clients["ecs"]

    def describe_tasks(**params: Any) -> dict[str, Any]:
        answer = ecs.describe_tasks(**params)
        for task in answer["tasks"]:
            task["lastStatus"] = "STOPPED"
            for container in task["containers"]:
                container["exitCode"] = 4
        return answer

    clients = {**world.clients, "ecs": Delegate(ecs, describe_tasks=describe_tasks)}
    result = cli("ecs-release", "--image", "repo/app:v2", clients=clients)
    assert result.exit_code == 4
    assert "exited with status 4 (expandcontract upgrade expand)" in result.output
    assert "log group /ecs/ec, stream ecs/migrate/" in result.output
    assert world.codedeploy.created == []
    assert len(world.task_definition_revisions("ec-app")) == 1


def test_migration_task_timeout_stops_the_task(cli: Cli, world: World) -> None:
    ecs = world.clients["ecs"]
    stopped: list[str] = []

    def describe_tasks(**params: Any) -> dict[str, Any]:
        answer = ecs.describe_tasks(**params)
        for task in answer["tasks"]:
            task["lastStatus"] = "RUNNING"
        return answer

    def stop_task(**params: Any) -> dict[str, Any]:
        stopped.append(params["task"])
        return ecs.stop_task(**params)

    clients = {
        **world.clients,
        "ecs": Delegate(ecs, describe_tasks=describe_tasks, stop_task=stop_task),
    }
    result = cli(
        "ecs-release", "--image", "repo/app:v2", "--migration-timeout", "5m", clients=clients
    )
    assert result.exit_code == 1
    assert "still RUNNING after 0:05:00; stopped it" in result.output
    assert len(stopped) == 1


def test_timeout_before_production_traffic_stops_with_rollback(cli: Cli, world: World) -> None:
    world.codedeploy.steps = [Step("InProgress", 0.0)]
    result = release(cli, "--timeout", "45m", "--poll-interval", "60s")
    assert result.exit_code == 1
    assert "not done after 0:45:00" in result.output
    assert world.codedeploy.stopped == [{"deploymentId": "d-FAKE0", "autoRollbackEnabled": True}]
    # Our own loop outlives the stock waiter's 30 minutes.
    assert sum(cli.time.slept) >= 45 * 60


def test_timeout_after_traffic_reached_green_never_stops_and_records_where_it_stands(
    cli: Cli, world: World, database_url: str
) -> None:
    world.codedeploy.steps = [Step("InProgress", 10.0)]
    result = release(cli, "--timeout", "45m", "--poll-interval", "60s")
    assert result.exit_code == 4, result.output
    assert world.codedeploy.stopped == []
    assert "It was NOT stopped" in result.output
    [entry] = ledger_entries(database_url, Event.RELEASE_DEPLOYED)
    assert entry.details["confirmed"] is False
    assert entry.details["where"]["green_traffic_percent"] == 10.0


def test_throttling_is_retried(cli: Cli, world: World, database_url: str) -> None:
    world.codedeploy.throttle = {"get_deployment": 3, "create_deployment": 1}
    result = release(cli)
    assert result.exit_code == 0, result.output
    assert world.codedeploy.calls.count("create_deployment") == 2
    assert len(world.codedeploy.created) == 1
    assert len(ledger_entries(database_url, Event.RELEASE_DEPLOYED)) == 1


def test_refuses_to_start_while_another_deployment_is_in_progress(cli: Cli, world: World) -> None:
    active = world.codedeploy.add_active()
    result = release(cli)
    assert result.exit_code == 2
    assert f"deployment {active} in progress" in result.output
    assert "preflight failed (no deployment running)" in result.output
    assert len(world.task_definition_revisions("ec-migrate")) == 1


class Exploding:
    """Any call on it fails the test: a dry run must not reach a client."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"dry run called {name}")


def test_dry_run_prints_every_call_and_makes_none(cli: Cli, world: World) -> None:
    clients = {name: Exploding() for name in world.clients}
    result = cli("ecs-release", "--image", "repo/app:v2", "--dry-run", clients=clients)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "[dry-run] would call" in line]
    called = [line.split("would call ", 1)[1].split("(", 1)[0] for line in lines]
    assert called == [
        "ecs.describe_services",
        "codedeploy.list_deployments",
        "ecs.describe_task_definition",
        "ecs.register_task_definition",
        "ecs.run_task",
        "ecs.describe_tasks",
        "ecs.run_task",
        "ecs.describe_tasks",
        "ecs.describe_task_definition",
        "ecs.register_task_definition",
        "elbv2.describe_listeners",
        "codedeploy.list_deployments",
        "codedeploy.create_deployment",
        "codedeploy.get_deployment",
        "codedeploy.list_deployment_targets",
        "cloudwatch.describe_alarms",
        "elbv2.describe_listeners",
        "elbv2.describe_target_health",
        "codedeploy.continue_deployment",
        "codedeploy.get_deployment",
        "codedeploy.list_deployment_targets",
    ]
    assert "image': 'repo/app:v2'" in result.output
    # The test listener is checked against green, then the deployment is continued.
    assert f"describe_target_health(TargetGroupArn={world.green!r})" in result.output
    assert (
        "continue_deployment(deploymentId='<deployment id>', deploymentWaitType='READY_WAIT')"
        in (result.output)
    )
    assert "[dry-run] would record release_deployed" in result.output
    assert len(world.task_definition_revisions("ec-app")) == 1


def test_missing_credentials_give_a_clear_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # Without injected clients the command builds real boto3 clients from the environment.
    from click.testing import CliRunner

    from expandcontract.cli import main

    result = CliRunner().invoke(
        main, ["ecs-release", "--image", "x:1", "--from-terraform", cli.terraform], obj={}
    )
    assert result.exit_code == 2
    assert "no AWS credentials found" in result.output
    assert "Traceback" not in result.output


def test_missing_region_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    from click.testing import CliRunner

    from expandcontract.cli import main

    result = CliRunner().invoke(
        main, ["snapshot", "--db-instance", "db", "--database-url", "postgresql://x/y"], obj={}
    )
    assert result.exit_code == 2
    assert "no AWS region configured" in result.output


def test_unreachable_ledger_fails_before_anything_is_deployed(cli: Cli, world: World) -> None:
    cli.database_url = None
    result = release(cli)
    assert result.exit_code == 2
    assert "no database URL" in result.output
    assert len(world.task_definition_revisions("ec-migrate")) == 1
    assert world.codedeploy.created == []


def test_the_real_linter_stops_a_release_with_an_unsafe_expand(
    cli: Cli, world: World, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expandcontract.aws.lint import run_check
    from tests.aws.test_contract import write_project

    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    ini = write_project(tmp_path / "project")
    expand = tmp_path / "project" / "migrations" / "versions" / "e1.py"
    expand.write_text(
        expand.read_text().replace("op.create_table(", 'op.drop_column("a", "b"); op.create_table(')
    )
    cli.config_path = str(ini)
    cli.linter = run_check
    result = release(cli)
    assert result.exit_code == 1
    assert "`expandcontract check` found errors" in result.output
    assert len(world.task_definition_revisions("ec-migrate")) == 1


def test_release_then_rollback_returns_to_the_previous_release(
    cli: Cli, world: World, database_url: str
) -> None:
    first = cli("ecs-release", "--image", "repo/app:v2", "--skip-lint")
    assert first.exit_code == 0, first.output
    second = cli("ecs-release", "--image", "repo/app:v3", "--skip-lint")
    assert second.exit_code == 0, second.output
    latest = ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0]
    assert (latest.release, latest.details["previous_release"]) == ("v3", "v2")
    v2_arn = world.task_definition_revisions("ec-app")[1]

    back = cli("rollback")
    assert back.exit_code == 0, back.output
    spec = json.loads(world.codedeploy.created[-1]["revision"]["appSpecContent"]["content"])
    assert spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == v2_arn
    rolled = ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0]
    assert rolled.release == "v2" and rolled.details["rollback"] is True


@pytest.mark.parametrize(
    ("image", "release_name"),
    [("repo/app@sha256:0123456789abcdef99", "0123456789ab"), ("host:5000/app:2.1", "2.1")],
)
def test_release_name_comes_from_the_image(
    cli: Cli, world: World, database_url: str, image: str, release_name: str
) -> None:
    result = cli("ecs-release", "--image", image, "--skip-lint", "--phases", "none")
    assert result.exit_code == 0, result.output
    assert ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0].release == release_name


@pytest.mark.parametrize("image", ["host:5000/app", "repo/app:"])
def test_image_without_tag_needs_a_release_name(cli: Cli, image: str) -> None:
    result = cli("ecs-release", "--image", image, "--skip-lint")
    assert result.exit_code == 2
    assert "pass --release NAME" in result.output
