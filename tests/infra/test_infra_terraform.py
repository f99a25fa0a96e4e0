"""Structural checks of the Terraform: the settings the release process and the fixed flaws rely on.

Terraform providers cannot be downloaded here, so these tests read the configuration with
python-hcl2 and assert what it declares. Each test names the failure it protects against.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hcl2
import pytest

if TYPE_CHECKING:
    from conftest import Terraform

INFRA = Path(__file__).resolve().parents[2] / "infra"
TERRAFORM_DIR = INFRA / "terraform"
TF_FILES = sorted(TERRAFORM_DIR.glob("*.tf"))

# Actions AWS does not scope to a resource: the only ones allowed on "*".
UNSCOPABLE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "cloudwatch:GetMetricData",
}

REQUIRED_OUTPUTS = {
    "cluster_name",
    "service_name",
    "task_family",
    "migration_task_family",
    "codedeploy_app_name",
    "codedeploy_group_name",
    "prod_listener_arn",
    "test_listener_arn",
    "blue_target_group_arn",
    "green_target_group_arn",
    "blue_target_group_name",
    "green_target_group_name",
    "db_instance_identifier",
    "private_subnet_ids",
    "task_security_group_id",
    "log_group_name",
    "aws_region",
    "container_name",
    "container_port",
}


@pytest.mark.parametrize("path", TF_FILES, ids=[p.name for p in TF_FILES])
def test_every_tf_file_parses(path: Path) -> None:
    with path.open() as handle:
        parsed = hcl2.load(handle)
    assert parsed, f"{path.name} parsed to nothing"


def test_aws_provider_is_pinned_to_major_5(terraform: Terraform) -> None:
    providers = [p for s in terraform.settings for p in s.get("required_providers", [])]
    aws = next(p["aws"] for p in providers if "aws" in p)
    assert aws["source"] == "hashicorp/aws"
    assert aws["version"] == "~> 5.0"


def test_every_variable_is_described_and_typed(terraform: Terraform) -> None:
    for name, var in terraform.variables.items():
        assert var.get("description"), f"variable {name} has no description"
        assert var.get("type"), f"variable {name} has no type"
    validated = [n for n, v in terraform.variables.items() if v.get("validation")]
    assert len(validated) >= len(terraform.variables) * 0.8, "most variables must validate input"


def test_no_plaintext_password_variable(terraform: Terraform) -> None:
    for name in terraform.variables:
        assert not re.search(r"pass(word)?|secret", name, re.I) or name == "app_secrets", name


# --- network -----------------------------------------------------------------------------------


def test_private_subnets_route_through_nat_not_the_internet_gateway(terraform: Terraform) -> None:
    for tier in ("public", "private"):
        subnet = terraform.resource("aws_subnet", tier)
        assert subnet["map_public_ip_on_launch"] is False, (
            f"{tier} subnets must not assign public IPs"
        )
    private_route = terraform.resource("aws_route", "private_egress")
    assert "nat_gateway_id" in private_route and "gateway_id" not in private_route
    public_route = terraform.resource("aws_route", "public_internet")
    assert "aws_internet_gateway" in public_route["gateway_id"]


def test_no_bastion_or_ssh_anywhere(terraform: Terraform) -> None:
    assert not terraform.all_of("aws_instance"), "no EC2 instances (bastion) may be created"
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_security_group_rule"):
        for name, rule in terraform.all_of(kind).items():
            from_port, to_port = rule.get("from_port"), rule.get("to_port")
            if isinstance(from_port, int) and isinstance(to_port, int):
                assert not from_port <= 22 <= to_port, f"{kind}.{name} opens SSH"
    for name, group in terraform.all_of("aws_security_group").items():
        assert "ingress" not in group, f"aws_security_group.{name}: use separate, described rules"


# --- load balancer -------------------------------------------------------------------------------


def test_listeners_production_80_or_443_and_restricted_test_listener(terraform: Terraform) -> None:
    http_forward = terraform.resource("aws_lb_listener", "http_forward")
    assert (http_forward["port"], http_forward["protocol"]) == (80, "HTTP")
    assert http_forward["count"] == "${local.https_enabled ? 0 : 1}"

    https = terraform.resource("aws_lb_listener", "https")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["certificate_arn"] == "${var.certificate_arn}"
    assert "TLS13" in https["ssl_policy"]
    assert https["count"] == "${local.https_enabled ? 1 : 0}"

    redirect = terraform.block(
        terraform.resource("aws_lb_listener", "http_redirect"), "default_action"
    )
    assert terraform.block(redirect, "redirect")["protocol"] == "HTTPS"

    test = terraform.resource("aws_lb_listener", "test")
    assert test["port"] == "${local.test_listener_port}"
    assert terraform.locals["test_listener_port"] == 8080
    # Outside deployments the test listener points at the live group, never at an empty one.
    assert "blue" in terraform.block(test, "default_action")["target_group_arn"]


def test_test_listener_only_reachable_from_configured_cidrs(terraform: Terraform) -> None:
    rules = terraform.all_of("aws_vpc_security_group_ingress_rule")
    on_test_port = {
        name: rule
        for name, rule in rules.items()
        if rule["from_port"] == "${local.test_listener_port}"
    }
    assert sorted(on_test_port) == ["alb_test_listener", "alb_test_listener_from_nat"]
    assert on_test_port["alb_test_listener"]["for_each"] == "${toset(var.test_listener_cidrs)}"
    assert on_test_port["alb_test_listener"]["cidr_ipv4"] == "${each.value}"
    nat = on_test_port["alb_test_listener_from_nat"]
    assert nat["cidr_ipv4"] == "${aws_eip.nat[count.index].public_ip}/32"
    cidr_var = terraform.variables["test_listener_cidrs"]
    assert cidr_var["default"] == []
    assert '"0.0.0.0/0"' in terraform.block(cidr_var, "validation")["condition"], (
        "0.0.0.0/0 must be rejected"
    )


def test_two_ip_target_groups_with_health_checks(terraform: Terraform) -> None:
    groups = terraform.resource("aws_lb_target_group", "app")
    assert groups["for_each"] == '${toset(["blue", "green"])}'
    assert groups["target_type"] == "ip"
    health = terraform.block(groups, "health_check")
    assert health["path"] == "/health"
    assert health["matcher"] == "200"
    assert (health["healthy_threshold"], health["unhealthy_threshold"]) == (2, 3)
    assert (health["timeout"], health["interval"]) == (5, 30)


# --- ECS -----------------------------------------------------------------------------------------


def test_service_uses_codedeploy_controller_in_private_subnets(terraform: Terraform) -> None:
    service = terraform.resource("aws_ecs_service", "app")
    assert terraform.block(service, "deployment_controller")["type"] == "CODE_DEPLOY"
    assert service["launch_type"] == "FARGATE"
    network = terraform.block(service, "network_configuration")
    assert network["assign_public_ip"] is False
    assert "aws_subnet.private" in network["subnets"]
    # CodeDeploy swaps task definitions and target groups; Terraform must not revert them.
    ignored = terraform.block(service, "lifecycle")["ignore_changes"]
    assert {"task_definition", "load_balancer"} <= set(ignored)


def test_app_task_definition_version_secrets_logs_health_check(terraform: Terraform) -> None:
    task = terraform.resource("aws_ecs_task_definition", "app")
    definition = re.sub(r"\s+", " ", task["container_definitions"])
    assert '{name = "APP_VERSION", value = var.app_version}' in definition
    assert terraform.variables["app_version"]["default"] == "blue"
    # The app never sees the master password: its own role, IAM tokens per connection.
    assert "secrets = local.app_secrets" in definition
    assert "DB_PASSWORD" not in terraform.locals["app_secrets"]
    app_env = str(terraform.locals["app_db_environment"])
    assert "DB_IAM_AUTH" in app_env and "var.db_app_username" in app_env
    assert "logConfiguration = local.log_configuration" in definition
    assert "healthCheck" in definition and "docker-healthcheck" in definition
    # The migration task connects as the master user: the owner of the schema and the ledger.
    migration = terraform.resource("aws_ecs_task_definition", "migration")
    assert "secrets = local.container_secrets" in re.sub(
        r"\s+", " ", migration["container_definitions"]
    )
    secrets = terraform.locals["container_secrets"]
    assert ':password::"' in secrets and "master_user_secret" in terraform.locals["db_secret_arn"]
    [connect] = terraform.data["aws_iam_policy_document"]["app_db_connect"]["statement"]
    assert connect["actions"] == ["rds-db:connect"]
    assert connect["resources"][0].endswith("/${var.db_app_username}")
    assert terraform.locals["log_configuration"]["logDriver"] == "awslogs"


def test_separate_migration_task_definition(terraform: Terraform) -> None:
    app = terraform.resource("aws_ecs_task_definition", "app")
    migration = terraform.resource("aws_ecs_task_definition", "migration")
    assert migration["family"] != app["family"]
    assert migration["family"].endswith("-migrate")
    # Started without an override, the migration task must only report, never migrate.
    assert '["expandcontract", "status", "--format", "json"]' in migration["container_definitions"]
    assert migration["task_role_arn"] != app["task_role_arn"]


# --- CodeDeploy ----------------------------------------------------------------------------------


def test_deployment_group_waits_for_test_listener_validation(terraform: Terraform) -> None:
    group = terraform.resource("aws_codedeploy_deployment_group", "app")
    style = terraform.block(group, "deployment_style")
    assert (style["deployment_type"], style["deployment_option"]) == (
        "BLUE_GREEN",
        "WITH_TRAFFIC_CONTROL",
    )
    blue_green = terraform.block(group, "blue_green_deployment_config")
    ready = terraform.block(blue_green, "deployment_ready_option")
    # CONTINUE_DEPLOYMENT would shift traffic without anyone validating the test listener.
    assert ready["action_on_timeout"] == "STOP_DEPLOYMENT"
    assert ready["wait_time_in_minutes"] == "${var.ready_wait_minutes}"
    terminate = terraform.block(blue_green, "terminate_blue_instances_on_deployment_success")
    assert terminate["action"] == "TERMINATE"
    assert terminate["termination_wait_time_in_minutes"] == "${var.termination_wait_minutes}"
    assert terraform.variables["termination_wait_minutes"]["default"] > 0


def test_deployment_config_defaults_to_linear_10_percent_every_3_minutes(
    terraform: Terraform,
) -> None:
    group = terraform.resource("aws_codedeploy_deployment_group", "app")
    assert group["deployment_config_name"] == "${var.deployment_config_name}"
    default = terraform.variables["deployment_config_name"]["default"]
    assert default == "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"


def test_auto_rollback_on_failure_stop_and_alarm(terraform: Terraform) -> None:
    group = terraform.resource("aws_codedeploy_deployment_group", "app")
    rollback = terraform.block(group, "auto_rollback_configuration")
    assert rollback["enabled"] is True
    assert set(rollback["events"]) == {
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    }
    alarms = terraform.block(group, "alarm_configuration")
    assert alarms["enabled"] is True
    assert "local.rollback_alarms" in alarms["alarms"]


def test_traffic_routes_and_both_target_groups(terraform: Terraform) -> None:
    group = terraform.resource("aws_codedeploy_deployment_group", "app")
    pair = terraform.block(terraform.block(group, "load_balancer_info"), "target_group_pair_info")
    assert terraform.block(pair, "prod_traffic_route")["listener_arns"] == [
        "${local.prod_listener_arn}"
    ]
    assert terraform.block(pair, "test_traffic_route")["listener_arns"] == [
        "${aws_lb_listener.test.arn}"
    ]
    names = [tg["name"] for tg in pair["target_group"]]
    assert any('["blue"]' in n for n in names) and any('["green"]' in n for n in names)


def test_rollback_alarms_watch_both_target_groups_by_rate(terraform: Terraform) -> None:
    rate = terraform.resource("aws_cloudwatch_metric_alarm", "target_5xx_rate")
    assert rate["for_each"] == "${local.target_groups}"
    assert "aws_lb_target_group.app" in terraform.locals["target_groups"]
    assert "metric_name" not in rate, "an absolute 5XX count alarm is the flaw we replace"
    queries = {q["id"]: q for q in rate["metric_query"]}
    expression = queries["error_rate"]["expression"]
    assert "100 * errors / requests" in expression and queries["error_rate"]["return_data"]
    metrics = {qid: terraform.block(q, "metric") for qid, q in queries.items() if "metric" in q}
    assert metrics["errors"]["metric_name"] == "HTTPCode_Target_5XX_Count"
    assert metrics["requests"]["metric_name"] == "RequestCount"
    for metric in metrics.values():
        # Per target group (the for_each colour), on this load balancer.
        assert metric["dimensions"] == {
            "LoadBalancer": "${aws_lb.main.arn_suffix}",
            "TargetGroup": "${each.value.dimension}",
        }
    assert rate["treat_missing_data"] == "notBreaching"
    rollback_alarms = terraform.locals["rollback_alarms"]
    # Both colours of the rate alarm are rollback alarms, not only the group being deployed to.
    assert (
        'for color in ["blue", "green"] : aws_cloudwatch_metric_alarm.target_5xx_rate[color]'
        in rollback_alarms
    )


def test_hook_lambda_is_wired_to_codedeploy(terraform: Terraform) -> None:
    function = terraform.resource("aws_lambda_function", "smoke_test")
    assert function["handler"] == "smoke_test.handler"
    env = terraform.block(function, "environment")["variables"]
    assert env["TEST_LISTENER_URL"].endswith(":${local.test_listener_port}")
    archive = terraform.data["archive_file"]["smoke_test"]
    source = (TERRAFORM_DIR / archive["source_file"].replace("${path.module}/", "")).resolve()
    assert source == INFRA / "lambda" / "smoke_test.py" and source.is_file()
    statements = terraform.data["aws_iam_policy_document"]["codedeploy"]["statement"]
    invoke = next(s for s in statements if s["actions"] == ["lambda:InvokeFunction"])
    assert invoke["resources"] == ["${aws_lambda_function.smoke_test.arn}"]
    hook = terraform.data["aws_iam_policy_document"]["smoke_test"]["statement"][0]
    assert hook["actions"] == ["codedeploy:PutLifecycleEventHookExecutionStatus"]
    assert hook["resources"] == ["${local.deployment_group}"]
    assert ":deploymentgroup:" in terraform.locals["deployment_group"]


# --- database ------------------------------------------------------------------------------------


def test_database_private_encrypted_protected_with_managed_password(terraform: Terraform) -> None:
    db = terraform.resource("aws_db_instance", "main")
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert db["deletion_protection"] == "${var.db_deletion_protection}"
    assert terraform.variables["db_deletion_protection"]["default"] is True
    assert db["skip_final_snapshot"] is False and db["final_snapshot_identifier"]
    assert db["backup_retention_period"] == "${var.db_backup_retention_days}"
    assert terraform.variables["db_backup_retention_days"]["default"] >= 7
    assert db["manage_master_user_password"] is True
    assert "password" not in db, "no password attribute: RDS manages it in Secrets Manager"
    subnets = terraform.resource("aws_db_subnet_group", "main")["subnet_ids"]
    assert "aws_subnet.private" in subnets


def test_parameter_group_logs_lock_waits(terraform: Terraform) -> None:
    group = terraform.resource("aws_db_parameter_group", "main")
    params = {p["name"]: p["value"] for p in group["parameter"]}
    assert params["log_lock_waits"] == "1"
    assert group["family"] == "postgres${local.db_major_version}"


def test_database_reachable_only_from_tasks_and_listed_groups(terraform: Terraform) -> None:
    rules = terraform.all_of("aws_vpc_security_group_ingress_rule")
    db_rules = {
        n: r for n, r in rules.items() if r["security_group_id"] == "${aws_security_group.db.id}"
    }
    assert sorted(db_rules) == ["db_from_clients", "db_from_tasks"]
    assert db_rules["db_from_tasks"]["referenced_security_group_id"] == (
        "${aws_security_group.tasks.id}"
    )
    assert db_rules["db_from_clients"]["for_each"] == "${toset(var.db_client_security_group_ids)}"
    for rule in db_rules.values():
        assert (rule["from_port"], rule["to_port"]) == (5432, 5432)
        assert "referenced_security_group_id" in rule
        assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule), "no address ranges"
    for name, rule in rules.items():
        assert not (rule.get("cidr_ipv4") == "0.0.0.0/0" and rule.get("from_port") in (22, 5432)), (
            name
        )


# --- IAM, dashboard, outputs ---------------------------------------------------------------------


def test_iam_statements_never_grant_wildcard_actions(terraform: Terraform) -> None:
    for name, document in terraform.data.get("aws_iam_policy_document", {}).items():
        for statement in document.get("statement", []):
            if statement.get("effect") == "Deny":
                continue
            for action in statement.get("actions", []):
                assert action != "*" and not action.endswith(":*"), f"{name}: {action}"
            if statement.get("resources") == ["*"]:
                assert all(
                    a in UNSCOPABLE_ACTIONS
                    or a.startswith(("elasticloadbalancing:Describe", "ssmmessages:"))
                    for a in statement["actions"]
                ), f"{name}: '*' resource for scopable actions {statement['actions']}"
    for name, attachment in terraform.all_of("aws_iam_role_policy_attachment").items():
        assert "AdministratorAccess" not in attachment["policy_arn"], name


def test_dashboard_compares_blue_and_green(terraform: Terraform) -> None:
    assert terraform.locals["dashboard_colors"] == ["blue", "green"]
    metrics = {row["metric"] for row in terraform.locals["dashboard_plain_rows"]}
    assert {"RequestCount", "TargetResponseTime"} <= metrics
    assert "HTTPCode_Target_5XX_Count" in terraform.locals["dashboard_rate_widgets"]


def test_outputs_for_the_release_helpers(terraform: Terraform) -> None:
    missing = REQUIRED_OUTPUTS - set(terraform.outputs)
    assert not missing, f"outputs missing: {sorted(missing)}"
    for name, output in terraform.outputs.items():
        assert output.get("description"), f"output {name} has no description"


def test_example_outputs_json_matches_declared_outputs(terraform: Terraform) -> None:
    """outputs.example.json is what `terraform output -json` prints; the CLI reader tests use it."""
    example = json.loads((TERRAFORM_DIR / "outputs.example.json").read_text())
    assert set(example) == set(terraform.outputs)
    for name, entry in example.items():
        assert set(entry) == {"sensitive", "type", "value"}, name


def test_outputs_cover_every_setting_the_release_helpers_read(terraform: Terraform) -> None:
    """`expandcontract ... --from-terraform outputs.json` reads these names; none may be missing."""
    target_module = pytest.importorskip("expandcontract.aws.target")
    wanted = {
        spec.metadata["terraform"]
        for spec in dataclasses.fields(target_module.ReleaseTarget)
        if spec.metadata.get("terraform")
    }
    # An Aurora cluster is the alternative to the RDS instance this stack creates.
    missing = wanted - set(terraform.outputs) - {"db_cluster_identifier"}
    assert not missing, (
        f"outputs the release helpers read but Terraform does not declare: {missing}"
    )
    resolved = target_module.resolve_target(
        terraform=TERRAFORM_DIR / "outputs.example.json", environ={}
    )
    assert resolved.smoke_test_function == "expandcontract-prod-smoke-test"
    assert len(resolved.alarm_names) == 4 and len(resolved.subnets) == 2


def test_release_policy_lets_ci_continue_only_this_deployment_group(terraform: Terraform) -> None:
    """STOP_DEPLOYMENT waits for ContinueDeployment, so the release role must be able to send it."""
    statements = {
        s["sid"]: s for s in terraform.data["aws_iam_policy_document"]["release"]["statement"]
    }
    deploy = statements["DeployThroughCodeDeploy"]
    assert {"codedeploy:ContinueDeployment", "codedeploy:StopDeployment"} <= set(deploy["actions"])
    assert deploy["resources"] == ["${local.deployment_group}"]
    assert statements["RunMigrationTask"]["resources"] == ["${local.migration_task_definitions}"]
    assert terraform.locals["migration_task_definitions"].endswith(
        ":task-definition/${aws_ecs_task_definition.migration.family}:*"
    )
    actions = {a for s in statements.values() for a in s["actions"]}
    assert not any(a.startswith("rds:Restore") or a.startswith("rds:Delete") for a in actions)
    assert terraform.outputs["release_policy_arn"]["value"] == "${aws_iam_policy.release.arn}"


# Calls of the release helpers the release policy leaves out on purpose: restoring a snapshot is an
# operator's decision; Aurora cluster snapshots and a database URL in SSM are alternatives to what
# this stack creates.
NOT_GRANTED_TO_CI = {
    "rds:RestoreDBInstanceFromDBSnapshot",
    "rds:RestoreDBClusterFromSnapshot",
    "rds:CreateDBInstance",
    "rds:DescribeDBClusters",
    "rds:CreateDBClusterSnapshot",
    "rds:DescribeDBClusterSnapshots",
    "ssm:GetParameter",
}
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}


def test_release_policy_grants_every_call_the_release_helpers_make(terraform: Terraform) -> None:
    """A call the policy misses fails only in production, halfway through a release."""
    botocore = pytest.importorskip("botocore.session")
    from botocore import xform_name

    session = botocore.get_session()
    calls = set()
    for path in (INFRA.parent / "expandcontract" / "aws").glob("*.py"):
        for service, method in re.findall(r"\baws\.(\w+)\.(\w+)\(", path.read_text()):
            operations = {
                xform_name(name): name
                for name in session.get_service_model(service).operation_names
            }
            calls.add(f"{IAM_PREFIX.get(service, service)}:{operations[method]}")
    assert "ecs:RegisterTaskDefinition" in calls, "the helpers' AWS calls were not found"
    statements = {
        s["sid"]: s for s in terraform.data["aws_iam_policy_document"]["release"]["statement"]
    }
    granted = {a for s in statements.values() for a in s["actions"]}
    assert not calls - NOT_GRANTED_TO_CI - granted, sorted(calls - NOT_GRANTED_TO_CI - granted)
    # Cloned task definitions carry the provider's default_tags, which ECS authorises as TagResource.
    tagging = statements["TagClonedTaskDefinitions"]
    assert tagging["actions"] == ["ecs:TagResource"]
    assert terraform.block(tagging, "condition")["values"] == ["RegisterTaskDefinition"]


# AWS's limits on the names this stack derives from project_name and environment.
NAME_LIMITS = {
    ("aws_lb", "name"): 32,
    ("aws_lb_target_group", "name"): 32,
    ("aws_s3_bucket", "bucket_prefix"): 37,  # the provider appends 26 characters (63 in all)
    ("aws_s3_bucket", "bucket"): 63,
    ("aws_iam_role", "name"): 64,
    ("aws_iam_policy", "name"): 128,
    ("aws_lambda_function", "function_name"): 64,
    ("aws_db_instance", "identifier"): 63,
    ("aws_rds_cluster", "cluster_identifier"): 63,
    ("aws_db_subnet_group", "name"): 255,
    ("aws_db_parameter_group", "name"): 255,
    ("aws_ecs_cluster", "name"): 255,
    ("aws_ecs_service", "name"): 255,
    ("aws_ecs_task_definition", "family"): 255,
    ("aws_codedeploy_app", "name"): 100,
    ("aws_codedeploy_deployment_group", "deployment_group_name"): 100,
    ("aws_cloudwatch_metric_alarm", "alarm_name"): 255,
    ("aws_cloudwatch_composite_alarm", "alarm_name"): 255,
    ("aws_cloudwatch_log_group", "name"): 512,
    ("aws_cloudwatch_dashboard", "dashboard_name"): 255,
    ("aws_ecr_repository", "name"): 256,
    ("aws_kms_alias", "name"): 256,
    ("aws_security_group", "name"): 255,
    ("aws_elasticache_replication_group", "replication_group_id"): 40,
    ("aws_elasticache_subnet_group", "name"): 255,
    ("aws_sqs_queue", "name"): 80,
    ("aws_appconfig_application", "name"): 64,
}


def _longest(variable: dict[str, Any]) -> str:
    """The longest value a variable's validation regex accepts (lower-case letters)."""
    [validation] = variable["validation"]
    pattern = re.search(r'regex\("(.+?)",', validation["condition"]).group(1)
    counts = re.findall(r"\{(\d+),(\d+)\}", pattern)
    singles = len(re.findall(r"\[[^\]]+\](?![{*+])", pattern))
    length = singles + sum(int(high) for _, high in counts)
    return "z" * length


def test_every_derived_name_fits_aws_limits_with_the_longest_allowed_values(
    terraform: Terraform,
) -> None:
    """project_name + environment at their longest must still give valid names everywhere."""
    project = _longest(terraform.variables["project_name"])
    environment = _longest(terraform.variables["environment"])
    assert len(project) >= 10 and len(environment) >= 4, (project, environment)
    name = f"{project}-{environment}"
    values = {
        "${local.name}": name,
        "${var.project_name}": project,
        "${var.environment}": environment,
        "${each.key}": "green",
        "${local.db_major_version}": "16",
        "${local.codedeploy_group_name}": f"{name}-app",
    }
    checked, too_long = 0, []
    for (type_name, attribute), limit in NAME_LIMITS.items():
        for resource, body in terraform.all_of(type_name).items():
            raw = body.get(attribute)
            if not isinstance(raw, str):
                continue
            for placeholder, value in values.items():
                raw = raw.replace(placeholder, value)
            if "${" in raw:
                continue  # not derived from the names above
            checked += 1
            if len(raw) > limit:
                too_long.append(
                    f"{type_name}.{resource}.{attribute} = {raw} ({len(raw)} > {limit})"
                )
    assert checked >= 15, f"only {checked} names were checked"
    assert not too_long, too_long
