"""The small pieces: settings resolution, task-definition cloning, metric maths, the call choke point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError, AwsError
from expandcontract.aws.metrics import (
    TargetGroupStats,
    Thresholds,
    divergence,
    load_balancer_dimension,
    target_group_dimension,
)
from expandcontract.aws.target import resolve_target
from expandcontract.aws.taskdef import cloned_definition
from expandcontract.aws.terraform import read_outputs
from tests.aws.fakes import throttling

EXAMPLE = Path(__file__).parents[2] / "infra" / "terraform" / "outputs.example.json"


def test_terraform_outputs_fill_the_target() -> None:
    if not EXAMPLE.is_file():
        pytest.skip("the infra example outputs are not in this checkout")
    target = resolve_target({}, terraform=EXAMPLE, environ={})
    assert target.cluster == "expandcontract-prod"
    assert target.container_port == 8000
    assert target.subnets == ("subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88")
    assert target.security_groups == ("sg-0123456789abcdef0",)
    assert target.region == "eu-west-1"
    assert target.blue_target_group_arn and ":targetgroup/" in target.blue_target_group_arn


def test_flags_beat_environment_beat_terraform(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "cluster_name": {"value": "from-tf", "type": "string", "sensitive": False},
                "service_name": {"value": "svc-tf", "type": "string", "sensitive": False},
                "private_subnet_ids": {"value": ["a", "b"], "type": "list", "sensitive": False},
            }
        )
    )
    environ = {"EXPANDCONTRACT_SERVICE": "svc-env", "EXPANDCONTRACT_SUBNETS": "x, y"}
    target = resolve_target({"cluster": "from-flag"}, terraform=outputs, environ=environ)
    assert target.cluster == "from-flag"
    assert target.service == "svc-env"
    assert target.subnets == ("x", "y")


def test_missing_settings_are_named_with_their_sources() -> None:
    target = resolve_target({}, environ={})
    with pytest.raises(AwsConfigurationError) as caught:
        target.require("cluster", "prod_listener_arn")
    message = str(caught.value)
    assert (
        "cluster: --cluster, $EXPANDCONTRACT_CLUSTER, or terraform output cluster_name" in message
    )
    assert "prod_listener_arn" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"cluster_name": "plain"}', 'has no "value"'),
        ("[1, 2]", "not a `terraform output -json` object"),
    ],
)
def test_bad_terraform_files_are_explained(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(content)
    with pytest.raises(AwsConfigurationError, match=expected):
        read_outputs(path)


def test_missing_terraform_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(AwsConfigurationError, match="terraform output -json > outputs.json"):
        read_outputs(tmp_path / "absent.json")


DEFINITION: dict[str, Any] = {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/app:7",
    "family": "app",
    "revision": 7,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-11-01T00:00:00Z",
    "registeredBy": "arn:aws:iam::1:user/ci",
    "cpu": "256",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "app:v1",
            "environment": [{"name": "APP_VERSION", "value": "blue"}],
        },
        {"name": "sidecar", "image": "envoy:1"},
    ],
}


def test_clone_drops_read_only_fields_and_sets_image_and_version() -> None:
    clone = cloned_definition(DEFINITION, image="app:v2", app_version="green", container="app")
    assert set(clone) == {"family", "cpu", "containerDefinitions"}
    app, sidecar = clone["containerDefinitions"]
    assert app["image"] == "app:v2"
    assert app["environment"] == [{"name": "APP_VERSION", "value": "green"}]
    assert sidecar == {"name": "sidecar", "image": "envoy:1"}
    # The source is not modified.
    assert DEFINITION["containerDefinitions"][0]["image"] == "app:v1"


def test_clone_needs_a_container_name_when_there_are_several() -> None:
    with pytest.raises(AwsConfigurationError, match="has 2 containers"):
        cloned_definition(DEFINITION, image="app:v2", app_version=None)
    with pytest.raises(AwsConfigurationError, match="no container 'web'.*app, sidecar"):
        cloned_definition(DEFINITION, image="app:v2", app_version=None, container="web")


def test_metric_dimensions_come_from_the_arns() -> None:
    tg = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/ec-blue/73e2d6bc24d8a067"
    listener = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/ec-alb/50dc6c495c0c9188/f2f7"
    assert target_group_dimension(tg) == "targetgroup/ec-blue/73e2d6bc24d8a067"
    assert load_balancer_dimension(listener) == "app/ec-alb/50dc6c495c0c9188"


def test_divergence_rules() -> None:
    limits = Thresholds(
        max_5xx_increase=0.01, max_latency_ratio=1.5, latency_slack=0.05, min_requests=20
    )
    blue = TargetGroupStats(1000, 5, 0.100)
    assert divergence(blue, TargetGroupStats(100, 1, 0.110), limits) == []
    assert "5XX" in divergence(blue, TargetGroupStats(100, 3, 0.110), limits)[0]
    assert "latency" in divergence(blue, TargetGroupStats(100, 0, 0.200), limits)[0]
    # Too little green traffic to judge, however bad it looks.
    assert divergence(blue, TargetGroupStats(5, 5, 2.0), limits) == []
    # No blue data counts as zero errors; latency is not compared without a baseline.
    assert divergence(TargetGroupStats(0, 0, None), TargetGroupStats(100, 2, 9.0), limits) != []
    assert divergence(TargetGroupStats(0, 0, None), TargetGroupStats(100, 0, 9.0), limits) == []


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def describe_services(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise throttling("DescribeServices")
        return {"services": [{"serviceName": params["services"][0]}]}


def test_throttling_is_retried_with_backoff_through_the_injected_sleep() -> None:
    slept: list[float] = []
    client = Flaky(failures=3)
    aws = Aws(clients={"ecs": client}, sleep=slept.append, attempts=5)
    answer = aws.ecs.describe_services(cluster="c", services=["s"])
    assert answer["services"][0]["serviceName"] == "s"
    assert client.calls == 4
    # Doubling from 0.5 s, each jittered down by at most half.
    assert len(slept) == 3
    for attempt, seconds in enumerate(slept):
        assert 0.25 * 2**attempt <= seconds <= 0.5 * 2**attempt


def test_throttling_gives_up_with_a_clear_error() -> None:
    aws = Aws(clients={"ecs": Flaky(failures=10)}, sleep=lambda _: None, attempts=3)
    with pytest.raises(AwsError, match="ecs.describe_services failed: ThrottlingException"):
        aws.ecs.describe_services(cluster="c", services=["s"])


def test_missing_boto3_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from expandcontract.cli import main

    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "boto3", None)
    result = CliRunner().invoke(main, ["rollback", "--region", "eu-west-1"], obj={})
    assert result.exit_code == 2
    assert "install expandcontract[aws]" in result.output


@pytest.mark.parametrize("command", ["ecs-release", "rollback", "snapshot", "contract"])
def test_every_command_has_help(command: str) -> None:
    from click.testing import CliRunner

    from expandcontract.cli import main

    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--from-terraform" in result.output and "--dry-run" in result.output


def test_core_imports_without_boto3() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None\n"
        "import expandcontract, expandcontract.api, expandcontract.cli\n"
        "import expandcontract.aws.release, expandcontract.cli.aws\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ecs-release", "--image", "x:1", "--timeout", "soon"], "cannot parse duration 'soon'"),
        (["rollback", "--poll-interval", "often"], "cannot parse duration 'often'"),
        (["ecs-release", "--image", "x:1", "--hook", "Install=fn"], "use EVENT=LAMBDA"),
        (["ecs-release", "--image", "x:1", "--phases", "expand,contract"], "only expand and"),
    ],
)
def test_bad_options_are_usage_errors_before_any_aws_call(args: list[str], expected: str) -> None:
    from click.testing import CliRunner

    from expandcontract.cli import main

    # No clients and no region: reaching AWS would be a different error.
    result = CliRunner().invoke(main, args, obj={})
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_unhealthy_green_targets_and_load_balancer_5xx_are_problems() -> None:
    from expandcontract.aws.metrics import enough_data

    blue = TargetGroupStats(100, 0, 0.1)
    limits = Thresholds()
    # Unhealthy targets count even before green has enough traffic to judge rates.
    crashing = TargetGroupStats(3, 0, None, unhealthy=2)
    assert not enough_data(crashing, limits)
    assert divergence(blue, crashing, limits) == ["green has 2 unhealthy targets"]
    # 502/503 the ALB answers itself never reach the target group's 5XX count.
    elb = TargetGroupStats(100, 0, 0.1, elb_5xx=5)
    assert "the load balancer answered 5 5XX itself" in divergence(blue, elb, limits)[0]
    assert divergence(blue, TargetGroupStats(100, 0, 0.1, elb_5xx=1), limits) == []


def test_retries_transient_errors_and_renews_expired_credentials_once() -> None:
    from botocore.exceptions import ClientError

    from expandcontract.aws.errors import CredentialsExpired

    def failing(code: str, times: int, status: int = 400) -> Any:
        state = {"left": times}

        class Client:
            def describe_clusters(self, **params: Any) -> dict[str, Any]:
                if state["left"] > 0:
                    state["left"] -= 1
                    raise ClientError(
                        {
                            "Error": {"Code": code, "Message": code},
                            "ResponseMetadata": {"HTTPStatusCode": status},
                        },
                        "DescribeClusters",
                    )
                return {"clusters": []}

        return Client()

    slept: list[float] = []
    aws = Aws(clients={"ecs": failing("InternalFailure", 3, 500)}, sleep=slept.append)
    assert aws.ecs.describe_clusters() == {"clusters": []} and len(slept) == 3
    aws = Aws(clients={"ecs": failing("ServiceUnavailable", 20, 503)}, sleep=slept.append)
    with pytest.raises(AwsError) as err:
        aws.ecs.describe_clusters()
    assert err.value.transient
    aws = Aws(clients={"ecs": failing("ExpiredTokenException", 1)}, sleep=slept.append)
    with pytest.raises(CredentialsExpired):
        aws.ecs.describe_clusters()  # an injected client has nothing to renew from
    renewed: list[str] = []
    aws = Aws(
        clients={"ecs": failing("ExpiredTokenException", 1)},
        sleep=slept.append,
        renew=lambda service: renewed.append(service) or failing("ExpiredToken", 0),
    )
    assert aws.ecs.describe_clusters() == {"clusters": []} and renewed == ["ecs"]
