"""moto for ECS, ELBv2, RDS, CloudWatch, SSM and Secrets Manager; a fake CodeDeploy.

moto's CodeDeploy deployments never progress and it has no ``stop_deployment``, so
:class:`FakeCodeDeploy` plays a scripted deployment behind the same interface. Time is a
:class:`FakeTime`: ``sleep`` advances the clock and fires scheduled scenario events, so no
test waits for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from expandcontract.aws.target import ReleaseTarget

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


class FakeTime:
    """A clock that only moves when someone sleeps; events fire when their time comes."""

    def minutes(self, count: int) -> list[datetime]:
        """``count`` timestamps a minute apart, from now on (for seeding metrics ahead)."""
        return [self.now + timedelta(seconds=30 + 60 * i) for i in range(count)]

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        self.slept: list[float] = []
        self._events: list[tuple[datetime, Callable[[], None]]] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        due = [e for e in self._events if e[0] <= self.now]
        self._events = [e for e in self._events if e[0] > self.now]
        for _, action in due:
            action()

    def at(self, offset: timedelta, action: Callable[[], None]) -> None:
        self._events.append((self.now + offset, action))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def throttling(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation
    )


@dataclass
class Step:
    """One poll of a scripted deployment."""

    status: str = "InProgress"
    green_weight: float = 0.0
    events: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    diagnostics: str | None = None


class FakeCodeDeploy:
    """A CodeDeploy client whose deployments follow ``steps``, one per ``get_deployment``.

    ``steps[0]`` is the deployment as created. Like the real service under
    ``deployment_ready_option``, a deployment does not leave its last ``Ready`` step until
    ``continue_deployment`` is called. ``timeline`` lists the statuses read and each continue.
    """

    def __init__(self, steps: list[Step] | None = None, throttle: dict[str, int] | None = None):
        self.steps = steps if steps is not None else default_steps()
        self.throttle = dict(throttle or {})
        self.deployments: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.stopped: list[dict[str, Any]] = []
        self.continued: list[dict[str, Any]] = []
        self.timeline: list[str] = []
        self.calls: list[str] = []
        # Called when a deployment reaches Ready, as the real CodeDeploy has registered the
        # replacement tasks behind the test listener by then.
        self.on_ready: Callable[[], None] = lambda: None
        # Called with the AppSpec's task definition when a deployment succeeds, as the real
        # CodeDeploy makes it the service's primary task set.
        self.on_success: Callable[[str], None] = lambda task_definition: None

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.throttle.get(operation, 0) > 0:
            self.throttle[operation] -= 1
            raise throttling(operation)

    def add_active(self, status: str = "InProgress") -> str:
        deployment_id = f"d-ACTIVE{len(self.deployments)}"
        self.deployments[deployment_id] = {"status": status, "step": 0, "steps": [Step(status)]}
        return deployment_id

    def list_deployments(self, **params: Any) -> dict[str, Any]:
        self._enter("list_deployments")
        wanted = set(params.get("includeOnlyStatuses") or [])
        return {
            "deployments": [
                i for i, d in self.deployments.items() if not wanted or d["status"] in wanted
            ]
        }

    def create_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("create_deployment")
        deployment_id = f"d-FAKE{len(self.deployments)}"
        self.created.append(params)
        self.deployments[deployment_id] = {
            "status": "Created",
            "step": 0,
            "steps": self.steps,
            "appspec": json.loads(params["revision"]["appSpecContent"]["content"]),
        }
        return {"deploymentId": deployment_id}

    def _current(self, deployment_id: str) -> Step:
        d = self.deployments[deployment_id]
        steps = d["steps"]
        return steps[min(d["step"], len(steps) - 1)] if steps else Step(d["status"])

    def get_deployment(self, deploymentId: str) -> dict[str, Any]:
        self._enter("get_deployment")
        d = self.deployments[deploymentId]
        upcoming = d["steps"][min(d["step"] + 1, len(d["steps"]) - 1)] if d["steps"] else None
        waiting = (
            d["status"] == "Ready"
            and not d.get("continued")
            and (upcoming is None or upcoming.status != "Ready")
        )
        if d["status"] not in ("Stopped", "Succeeded") and not waiting:
            d["step"] += 1
            d["status"] = self._current(deploymentId).status
            if d["status"] == "Ready":
                self.on_ready()
            if d["status"] == "Succeeded" and "appspec" in d:
                resource = d["appspec"]["Resources"][0]["TargetService"]["Properties"]
                self.on_success(resource["TaskDefinition"])
        self.timeline.append(d["status"])
        step = self._current(deploymentId)
        info: dict[str, Any] = {"deploymentId": deploymentId, "status": d["status"]}
        if step.error and d["status"] != "Stopped":
            info["errorInformation"] = {"code": "HEALTH_CONSTRAINTS", "message": step.error}
        return {"deploymentInfo": info}

    def list_deployment_targets(self, deploymentId: str) -> dict[str, Any]:
        self._enter("list_deployment_targets")
        return {"targetIds": ["cluster:service"]}

    def get_deployment_target(self, deploymentId: str, targetId: str) -> dict[str, Any]:
        self._enter("get_deployment_target")
        step = self._current(deploymentId)
        events = []
        for name, status in step.events.items():
            event: dict[str, Any] = {"lifecycleEventName": name, "status": status}
            if status == "Failed" and step.diagnostics:
                event["diagnostics"] = {"errorCode": "Failed", "message": step.diagnostics}
            events.append(event)
        return {
            "deploymentTarget": {
                "ecsTarget": {
                    "lifecycleEvents": events,
                    "taskSetsInfo": [
                        {"taskSetLabel": "Blue", "trafficWeight": 100.0 - step.green_weight},
                        {"taskSetLabel": "Green", "trafficWeight": step.green_weight},
                    ],
                }
            }
        }

    def continue_deployment(
        self, deploymentId: str, deploymentWaitType: str = "READY_WAIT"
    ) -> dict[str, Any]:
        self._enter("continue_deployment")
        d = self.deployments.get(deploymentId)
        if d is None or d["status"] != "Ready":
            code, message = (
                ("DeploymentDoesNotExistException", f"no deployment {deploymentId}")
                if d is None
                else ("DeploymentIsNotInReadyStateException", "the deployment is not Ready")
            )
            raise ClientError({"Error": {"Code": code, "Message": message}}, "ContinueDeployment")
        self.continued.append(
            {"deploymentId": deploymentId, "deploymentWaitType": deploymentWaitType}
        )
        self.timeline.append("continue")
        d["continued"] = True
        d["status"] = "InProgress"
        return {}

    def stop_deployment(
        self, deploymentId: str, autoRollbackEnabled: bool = False
    ) -> dict[str, Any]:
        self._enter("stop_deployment")
        self.stopped.append(
            {"deploymentId": deploymentId, "autoRollbackEnabled": autoRollbackEnabled}
        )
        self.deployments[deploymentId]["status"] = "Stopped"
        return {"status": "Pending", "statusMessage": "stopping"}


def default_steps() -> list[Step]:
    """Green up, smoke-tested, held Ready until continued, then a linear shift in two polls."""
    tested = {"Install": "Succeeded", "AfterAllowTestTraffic": "Succeeded"}
    return [
        Step("Created"),
        Step("InProgress", 0.0, {"Install": "Succeeded", "AfterAllowTestTraffic": "InProgress"}),
        Step("Ready", 0.0, tested),
        Step("InProgress", 50.0, {**tested, "AllowTraffic": "InProgress"}),
        Step("InProgress", 100.0, {**tested, "AllowTraffic": "Succeeded"}),
        Step("Succeeded", 100.0, {**tested, "AllowTraffic": "Succeeded"}),
    ]


class Delegate:
    """A client that forwards to a real (moto) client, with chosen operations replaced."""

    def __init__(self, inner: Any, **overrides: Callable[..., Any]) -> None:
        self._inner = inner
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._inner, name)


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
        for name in ("ec2", "ecs", "elbv2", "rds", "cloudwatch", "ssm", "secretsmanager")
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
        task_family="ec-app",
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
        log_group="/ecs/ec",
        alarm_names=("ec-green-5xx",),
        smoke_test_function="ec-smoke-test",
    )
    fake = FakeCodeDeploy()
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


def write_terraform_outputs(target: ReleaseTarget, path: Any) -> str:
    """The target as a `terraform output -json` file, with the infra module's output names."""
    import json
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

    def __call__(self, *args: str, clients: dict[str, Any] | None = None) -> Any:
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
        }
        return CliRunner().invoke(main, argv, obj=obj)


@pytest.fixture
def cli(world: World, fake_time: FakeTime, tmp_path: Any, database_url: str) -> Cli:
    """Runs ``expandcontract`` with the world's clients, fake time and a fresh ledger database."""
    terraform = write_terraform_outputs(world.target, tmp_path / "outputs.json")
    return Cli(world, fake_time, terraform, database_url)
