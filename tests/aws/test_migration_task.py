"""The one-off migration task: MISSING right after RunTask, and failures that explain themselves."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.aws.conftest import Cli, World
from tests.aws.fakes import Delegate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:moto")


def test_a_task_missing_right_after_run_task_is_waited_for(cli: Cli, world: World) -> None:
    ecs = world.clients["ecs"]
    calls = {"n": 0}

    def describe_tasks(**params: Any) -> dict[str, Any]:
        calls["n"] += 1
        answer = ecs.describe_tasks(**params)
        if calls["n"] <= 2:  # eventual consistency: ECS does not know the task yet
            return {
                "tasks": [],
                "failures": [{"arn": params["tasks"][0], "reason": "MISSING"}],
            }
        for task in answer["tasks"]:
            task["lastStatus"] = "STOPPED"
            for container in task["containers"]:
                container["exitCode"] = 0
        return answer

    clients = {**world.clients, "ecs": Delegate(ecs, describe_tasks=describe_tasks)}
    result = cli("ecs-release", "--image", "repo/app:v2", "--skip-lint", clients=clients)
    assert result.exit_code == 0, result.output
    assert calls["n"] > 2


def test_a_task_missing_for_long_is_a_clear_error(cli: Cli, world: World) -> None:
    ecs = world.clients["ecs"]

    def describe_tasks(**params: Any) -> dict[str, Any]:
        return {"tasks": [], "failures": [{"arn": params["tasks"][0], "reason": "MISSING"}]}

    clients = {**world.clients, "ecs": Delegate(ecs, describe_tasks=describe_tasks)}
    result = cli("ecs-release", "--image", "repo/app:v2", "--skip-lint", clients=clients)
    assert result.exit_code == 1
    assert "not found by ECS" in result.output and "MISSING" in result.output
    assert "Traceback" not in result.output
    assert world.codedeploy.created == []


def test_a_failed_task_shows_stop_code_container_reasons_and_its_last_log_lines(
    cli: Cli, world: World
) -> None:
    ecs, logs = world.clients["ecs"], world.clients["logs"]
    logs.create_log_group(logGroupName="/ecs/ec")

    def describe_tasks(**params: Any) -> dict[str, Any]:
        answer = ecs.describe_tasks(**params)
        for task in answer["tasks"]:
            task_id = task["taskArn"].rsplit("/", 1)[-1]
            stream = f"ecs/migrate/{task_id}"
            if not logs.describe_log_streams(logGroupName="/ecs/ec", logStreamNamePrefix=stream)[
                "logStreams"
            ]:
                logs.create_log_stream(logGroupName="/ecs/ec", logStreamName=stream)
                logs.put_log_events(
                    logGroupName="/ecs/ec",
                    logStreamName=stream,
                    logEvents=[
                        {"timestamp": int(time.time() * 1000) + i, "message": line}
                        for i, line in enumerate(
                            ["running expand", "ERROR: permission denied for table customers"]
                        )
                    ],
                )
            task["lastStatus"] = "STOPPED"
            task["stopCode"] = "EssentialContainerExited"
            task["stoppedReason"] = "Essential container in task exited"
            for container in task["containers"]:
                container["exitCode"] = 137
                container["reason"] = "OutOfMemoryError: Container killed due to memory usage"
        return answer

    clients = {**world.clients, "ecs": Delegate(ecs, describe_tasks=describe_tasks)}
    result = cli("ecs-release", "--image", "repo/app:v2", "--skip-lint", clients=clients)
    assert result.exit_code == 137
    out = result.output
    assert "EssentialContainerExited: Essential container in task exited" in out
    assert "container migrate exit code 137 (OutOfMemoryError" in out
    assert "| ERROR: permission denied for table customers" in out
    assert world.codedeploy.created == []
