"""moto for ECS, ELBv2, RDS, CloudWatch, SSM and Secrets Manager; the fakes of ``fakes.py``.

A :class:`World` is one environment in moto with a :class:`~tests.aws.fakes.FakeCodeDeploy`;
:class:`Cli` runs ``expandcontract`` against it on :class:`~tests.aws.fakes.FakeTime`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from expandcontract.aws.target import ReleaseTarget
from tests.aws.fakes import FakeCodeDeploy, FakeTime
from tests.aws.simulator import CodeDeploySimulator, Group

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials and region; no profile or config file of the machine leaks in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("EXPANDCONTRACT_") and name != "EXPANDCONTRACT_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # moto otherwise builds thousands of default AMIs per region: seconds per test.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@dataclass
class World:
    """The AWS resources of one environment, created in moto."""

    target: ReleaseTarget
    clients: dict[str, Any]
    codedeploy: FakeCodeDeploy
    app_task_definition: str
    lb_dimension: str

    @property
    def blue(self) -> str:
        return str(self.target.blue_target_group_arn)

    @property
    def green(self) -> str:
        return str(self.target.green_target_group_arn)

    def put_metrics(
        self,
        target_group: str,
        times: list[datetime],
        requests: float,
        errors: float,
        latency: float,
    ) -> None:
        """Seed one minute of ALB metrics for ``target_group`` at each of ``times``."""
        dims = [
            {
                "Name": "TargetGroup",
                "Value": "targetgroup/" + target_group.split(":targetgroup/")[1],
            },
            {"Name": "LoadBalancer", "Value": self.lb_dimension},
        ]
        data = [
            ("RequestCount", requests),
            ("HTTPCode_Target_5XX_Count", errors),
            ("TargetResponseTime", latency),
        ]
        points = [
            {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value}
            for at in times
            for name, value in data
            # CloudWatch has no datapoint for a minute without 5XX: leave it out like ALB does.
            if value or name == "RequestCount"
        ]
        for start in range(0, len(points), 500):
            self.clients["cloudwatch"].put_metric_data(
                Namespace="AWS/ApplicationELB", MetricData=points[start : start + 500]
            )

    def task_definition_revisions(self, family: str) -> list[str]:
        return self.clients["ecs"].list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


@pytest.fixture
def moto_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for all tests: it caches the service models clients are built from."""
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def world(moto_aws: None, boto_session: boto3.session.Session) -> World:
    """VPC, ECS cluster and CODE_DEPLOY service, ALB with two target groups, RDS, alarms."""
    clients = {
        name: boto_session.client(name)
        for name in (
            "ec2",
            "ecs",
            "elbv2",
            "rds",
            "cloudwatch",
            "ssm",
            "secretsmanager",
            "iam",
            "ecr",
            "logs",
        )
    }
    ec2, ecs, elbv2 = clients["ec2"], clients["ecs"], clients["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto's awsvpc tasks need DNS hostnames on the VPC and security groups in the config.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    lb = elbv2.create_load_balancer(Name="ec-alb", Subnets=subnets, SecurityGroups=[group])[
        "LoadBalancers"
    ][0]
    blue, green = (
        elbv2.create_target_group(
            Name=f"ec-{name}", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for name in ("blue", "green")
    )
    prod = elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}],
    )["Listeners"][0]["ListenerArn"]
    test = elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": green}],
    )["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName="ec")
    logs = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecs/ec",
            "awslogs-region": REGION,
            "awslogs-stream-prefix": "ecs",
        },
    }
    common = {
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
    }
    app = ecs.register_task_definition(
        family="ec-app",
        containerDefinitions=[
            {
                "name": "app",
                "image": "repo/app:v1",
                "memory": 512,
                "portMappings": [{"containerPort": 8000}],
                "environment": [
                    {"name": "APP_VERSION", "value": "blue"},
                    {"name": "LOG", "value": "info"},
                ],
                "logConfiguration": logs,
            }
        ],
        tags=[{"key": "team", "value": "payments"}],
        **common,
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.register_task_definition(
        family="ec-migrate",
        containerDefinitions=[
            {"name": "migrate", "image": "repo/app:v1", "memory": 512, "logConfiguration": logs}
        ],
        **common,
    )
    network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
    ecs.create_service(
        cluster="ec",
        serviceName="ec-app",
        taskDefinition=app,
        desiredCount=1,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        networkConfiguration=network,
        loadBalancers=[{"targetGroupArn": blue, "containerName": "app", "containerPort": 8000}],
    )
    clients["rds"].create_db_instance(
        DBInstanceIdentifier="ec-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
    )
    clients["cloudwatch"].put_metric_alarm(
        AlarmName="ec-green-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    target = ReleaseTarget(
        region=REGION,
        cluster="ec",
        service="ec-app",
        migration_task_family="ec-migrate",
        container_name="app",
        migration_container_name="migrate",
        container_port=8000,
        codedeploy_app="ec",
        codedeploy_group="ec-app",
        prod_listener_arn=prod,
        test_listener_arn=test,
        blue_target_group_arn=blue,
        green_target_group_arn=green,
        db_instance_identifier="ec-db",
        subnets=tuple(subnets),
        security_groups=(group,),
        alarm_names=("ec-green-5xx",),
        smoke_test_function="ec-smoke-test",
    )
    clients["iam"].create_role(RoleName="ec-codedeploy", AssumeRolePolicyDocument="{}")
    fake = FakeCodeDeploy()
    fake.group = Group(
        application="ec",
        name="ec-app",
        cluster="ec",
        service="ec-app",
        target_groups=("ec-blue", "ec-green"),
        prod_listener=prod,
        test_listener=test,
        alarms=("ec-green-5xx",),
    )
    fake.on_success = lambda arn: ecs.update_service(
        cluster="ec", service="ec-app", taskDefinition=arn
    )
    # The replacement task behind the test listener (moto reports a registered target healthy).
    fake.on_ready = lambda: elbv2.register_targets(
        TargetGroupArn=green, Targets=[{"Id": "10.0.2.20", "Port": 8000}]
    )
    clients["codedeploy"] = fake
    lb_dimension = "/".join(prod.split(":listener/")[1].split("/")[:3])
    return World(target, clients, fake, app, lb_dimension)


@pytest.fixture
def simulator(world: World, fake_time: FakeTime) -> CodeDeploySimulator:
    """The world with the lifecycle simulator as its CodeDeploy (linear 10 % every 3 min,
    Ready wait 60 min, termination wait 120 min)."""
    target = world.target
    sim = CodeDeploySimulator(
        fake_time,
        world.codedeploy.group,
        ecs=world.clients["ecs"],
        elbv2=world.clients["elbv2"],
        target_group_arns={"ec-blue": world.blue, "ec-green": world.green},
        live_task_definition=world.app_task_definition,
    )
    assert target.prod_listener_arn
    world.clients["codedeploy"] = sim
    return sim


def write_terraform_outputs(target: ReleaseTarget, path: Any) -> str:
    """The target as a `terraform output -json` file, with the infra module's output names."""
    from dataclasses import fields as dc_fields

    outputs = {}
    for spec in dc_fields(ReleaseTarget):
        value = getattr(target, spec.name)
        name = spec.metadata["terraform"]
        if value in (None, ()) or not name:
            continue
        if name == "task_security_group_id":
            value = value[0]
        if isinstance(value, tuple):
            value = list(value)
        outputs[name] = {"value": value, "type": "string", "sensitive": False}
    path.write_text(json.dumps(outputs))
    return str(path)


@dataclass
class Cli:
    world: World
    time: FakeTime
    terraform: str
    database_url: str | None = None
    config_path: str = "no-alembic.ini"
    linter: Callable[[str], int] = lambda config_path: 0

    def __call__(
        self,
        *args: str,
        clients: dict[str, Any] | None = None,
        renew: Callable[[str], Any] | None = None,
    ) -> Any:
        from click.testing import CliRunner

        from expandcontract.cli import main

        argv = [*args, "--from-terraform", self.terraform, "-c", self.config_path]
        if self.database_url:
            argv += ["--database-url", self.database_url]
        obj = {
            "aws_clients": self.world.clients if clients is None else clients,
            "clock": self.time.clock,
            "sleep": self.time.sleep,
            "linter": self.linter,
            "aws_renew": renew,
        }
        return CliRunner().invoke(main, argv, obj=obj)


@pytest.fixture
def cli(world: World, fake_time: FakeTime, tmp_path: Any, database_url: str) -> Cli:
    """Runs ``expandcontract`` with the world's clients, fake time and a fresh ledger database."""
    terraform = write_terraform_outputs(world.target, tmp_path / "outputs.json")
    return Cli(world, fake_time, terraform, database_url)
