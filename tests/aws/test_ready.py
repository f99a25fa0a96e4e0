"""A deployment held ``Ready`` (Terraform's ``deployment_ready_option``) is validated, then continued.

Without the continue, CodeDeploy would wait ``ready_wait_minutes`` and then stop and roll back
every release: the fake holds ``Ready`` until ``continue_deployment`` is called, like the service.
"""

from __future__ import annotations

import json

import pytest

from expandcontract.ledger import Event
from tests.aws.conftest import Cli, World
from tests.aws.fakes import Step
from tests.aws.test_release import ledger_entries, release
from tests.aws.test_rollback import deployed  # noqa: F401  (fixture)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:moto")

TESTED = {"Install": "Succeeded", "AfterAllowTestTraffic": "Succeeded"}


def test_ready_deployment_is_continued_once_then_shifts(
    cli: Cli, world: World, database_url: str
) -> None:
    result = release(cli)
    assert result.exit_code == 0, result.output
    assert world.codedeploy.timeline == [
        "InProgress",
        "Ready",
        "continue",
        "InProgress",
        "InProgress",
        "Succeeded",
    ]
    assert world.codedeploy.continued == [
        {"deploymentId": "d-FAKE0", "deploymentWaitType": "READY_WAIT"}
    ]
    out = result.output
    hook = out.index("lifecycle AfterAllowTestTraffic: Succeeded")
    checked = out.index(f"test listener: 1 healthy targets in {world.green}")
    continuing = out.index("continuing deployment d-FAKE0")
    shifted = out.index("traffic on green: 50%")
    assert hook < checked < continuing < shifted
    assert world.codedeploy.stopped == []
    assert len(ledger_entries(database_url, Event.RELEASE_DEPLOYED)) == 1


def test_continue_is_not_repeated_while_ready_is_still_reported(cli: Cli, world: World) -> None:
    # A read right after the continue may still say Ready: one continue is enough.
    world.codedeploy.steps = [
        Step("Created"),
        Step("Ready", 0.0, TESTED),
        Step("Ready", 0.0, TESTED),
        Step("Ready", 0.0, TESTED),
        Step("InProgress", 100.0, {**TESTED, "AllowTraffic": "Succeeded"}),
        Step("Succeeded", 100.0, {**TESTED, "AllowTraffic": "Succeeded"}),
    ]
    result = release(cli)
    assert result.exit_code == 0, result.output
    assert world.codedeploy.timeline.count("Ready") == 3
    assert len(world.codedeploy.continued) == 1


def test_ready_waits_for_the_smoke_test_verdict(cli: Cli, world: World) -> None:
    running = {"Install": "Succeeded", "AfterAllowTestTraffic": "InProgress"}
    world.codedeploy.steps = [
        Step("Created"),
        Step("Ready", 0.0, running),
        Step("Ready", 0.0, running),
        Step("Ready", 0.0, TESTED),
        Step("Succeeded", 100.0, TESTED),
    ]
    fake = world.codedeploy
    result = release(cli)
    assert result.exit_code == 0, result.output
    # Continued only after the hook succeeded, never while it was running.
    assert fake.timeline.index("continue") > fake.timeline.index("Ready") + 1
    assert len(fake.continued) == 1
    assert result.output.index("AfterAllowTestTraffic: Succeeded") < result.output.index(
        "continuing deployment"
    )


@pytest.mark.parametrize("status", ["InProgress", "Ready"])
def test_failed_smoke_test_stops_with_rollback_and_is_never_continued(
    cli: Cli, world: World, status: str
) -> None:
    world.codedeploy.steps = [
        Step("Created"),
        Step("InProgress", 0.0, {"Install": "Succeeded", "AfterAllowTestTraffic": "InProgress"}),
        Step(
            status,
            0.0,
            {"Install": "Succeeded", "AfterAllowTestTraffic": "Failed"},
            diagnostics="smoke test: GET /api/v2/customers/1 answered 500",
        ),
    ]
    result = release(cli)
    assert result.exit_code == 1
    assert (
        "failed: lifecycle hook AfterAllowTestTraffic failed: smoke test: "
        "GET /api/v2/customers/1 answered 500"
    ) in result.output
    assert world.codedeploy.continued == []
    assert world.codedeploy.stopped == [{"deploymentId": "d-FAKE0", "autoRollbackEnabled": True}]


def test_ready_without_healthy_green_targets_stops_with_rollback(
    cli: Cli, world: World, database_url: str
) -> None:
    world.codedeploy.on_ready = lambda: None  # no replacement task registered behind the listener
    result = release(cli)
    assert result.exit_code == 1
    assert f"green target group {world.green} behind the test listener has no healthy" in (
        result.output
    )
    assert world.codedeploy.continued == []
    assert world.codedeploy.stopped == [{"deploymentId": "d-FAKE0", "autoRollbackEnabled": True}]
    assert ledger_entries(database_url, Event.RELEASE_DEPLOYED) == []


def test_rollback_redeploy_continues_its_ready_deployment(
    cli: Cli,
    world: World,
    deployed: str,  # noqa: F811
    database_url: str,
) -> None:
    result = cli("rollback")
    assert result.exit_code == 0, result.output
    [created] = world.codedeploy.created
    spec = json.loads(created["revision"]["appSpecContent"]["content"])
    assert spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == deployed
    assert world.codedeploy.continued == [
        {"deploymentId": "d-FAKE0", "deploymentWaitType": "READY_WAIT"}
    ]
    assert "continuing deployment d-FAKE0" in result.output
    assert ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0].details["rollback"] is True


def test_rollback_redeploy_with_a_failed_smoke_test_exits_non_zero(
    cli: Cli,
    world: World,
    deployed: str,  # noqa: F811
    database_url: str,
) -> None:
    world.codedeploy.steps = [
        Step("Created"),
        Step("Ready", 0.0, {"AfterAllowTestTraffic": "Failed"}, diagnostics="503 from /health"),
    ]
    result = cli("rollback")
    assert result.exit_code == 1
    assert "lifecycle hook AfterAllowTestTraffic failed: 503 from /health" in result.output
    assert world.codedeploy.continued == []
    # The way back is never undone by us: CodeDeploy fails (and rolls back) it on its own.
    assert world.codedeploy.stopped == []
    # The redeploy did not happen: the ledger still names v2 as the deployed release.
    assert ledger_entries(database_url, Event.RELEASE_DEPLOYED)[0].release == "v2"


def test_continue_of_a_deployment_already_moving_on_is_not_an_error() -> None:
    from expandcontract.aws.clients import Aws
    from expandcontract.aws.codedeploy import continue_deployment
    from expandcontract.aws.errors import AwsError
    from tests.aws.fakes import FakeCodeDeploy

    fake = FakeCodeDeploy()
    aws = Aws(clients={"codedeploy": fake}, sleep=lambda seconds: None)
    ready = fake.add_active("Ready")
    assert continue_deployment(aws, ready) is True
    # An operator (or an earlier poll) continued it already: CodeDeploy says it is not Ready.
    assert continue_deployment(aws, ready) is False
    assert len(fake.continued) == 1
    with pytest.raises(AwsError, match="continue_deployment failed"):
        continue_deployment(aws, "d-MISSING")
