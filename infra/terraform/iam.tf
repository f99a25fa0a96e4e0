# Least-privilege roles. Each role gets only the actions it uses, on the resources it uses them on;
# the only "*" resources are actions AWS does not scope to a resource (ecr:GetAuthorizationToken,
# ELB Describe*, ec2 network-interface calls made by Lambda's VPC integration).

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- Task execution role: used by the ECS agent to pull the image, read secrets and write logs. ---

resource "aws_iam_role" "task_execution" {
  name               = "${local.name}-task-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task_execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [aws_ecr_repository.app.arn]
  }

  statement {
    sid       = "WriteTaskLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  statement {
    sid       = "ReadDatabaseAndAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([local.db_secret_arn], local.extra_secretsmanager_arns)
  }

  dynamic "statement" {
    for_each = length(local.extra_ssm_parameter_arns) > 0 ? [1] : []
    content {
      sid       = "ReadAppParameters"
      actions   = ["ssm:GetParameters"]
      resources = local.extra_ssm_parameter_arns
    }
  }

  statement {
    sid       = "DecryptSecretsWithProjectKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "secretsmanager.${var.aws_region}.amazonaws.com",
        "ssm.${var.aws_region}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_role_policy" "task_execution" {
  name   = "pull-image-read-secrets-write-logs"
  role   = aws_iam_role.task_execution.id
  policy = data.aws_iam_policy_document.task_execution.json
}

# --- Task roles: what the application code itself may call. The app needs no AWS API; ECS Exec
# (the SSM Session Manager replacement for a bastion) is granted only when enabled. ---

resource "aws_iam_role" "app_task" {
  name               = "${local.name}-app-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# The app opens database connections with IAM tokens as db_app_username, and may do nothing else.
data "aws_iam_policy_document" "app_db_connect" {
  statement {
    sid       = "ConnectAsTheAppRole"
    actions   = ["rds-db:connect"]
    resources = ["arn:${local.partition}:rds-db:${var.aws_region}:${local.account_id}:dbuser:${aws_db_instance.main.resource_id}/${var.db_app_username}"]
  }
}

resource "aws_iam_role_policy" "app_db_connect" {
  name   = "db-connect"
  role   = aws_iam_role.app_task.id
  policy = data.aws_iam_policy_document.app_db_connect.json
}

resource "aws_iam_role" "migration_task" {
  name               = "${local.name}-migration-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "ecs_exec" {
  #checkov:skip=CKV_AWS_356:ssmmessages channel actions cannot be scoped to a resource.
  #checkov:skip=CKV_AWS_111:ssmmessages channel actions cannot be scoped to a resource.
  statement {
    sid = "EcsExecSessionChannel"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "app_task_exec" {
  count = var.enable_execute_command ? 1 : 0

  name   = "ecs-exec"
  role   = aws_iam_role.app_task.id
  policy = data.aws_iam_policy_document.ecs_exec.json
}

# --- CodeDeploy service role: the ECS blue/green actions of AWSCodeDeployRoleForECS, scoped to this
# service, its listeners, the hook Lambda and the rollback alarms. ---

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name               = "${local.name}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

locals {
  service_arn  = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service/${aws_ecs_cluster.main.name}/${local.name}-app"
  task_set_arn = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-set/${aws_ecs_cluster.main.name}/${local.name}-app/*"
  listener_arns = compact([
    local.prod_listener_arn,
    aws_lb_listener.test.arn,
  ])
  listener_rule_arns = [
    for arn in local.listener_arns : replace(arn, ":listener/", ":listener-rule/")
  ]
}

data "aws_iam_policy_document" "codedeploy" {
  statement {
    sid       = "ManageServiceTaskSets"
    actions   = ["ecs:DescribeServices", "ecs:CreateTaskSet", "ecs:UpdateServicePrimaryTaskSet", "ecs:DeleteTaskSet"]
    resources = [local.service_arn, local.task_set_arn]
  }

  statement {
    sid       = "TagTaskSets"
    actions   = ["ecs:TagResource"]
    resources = [local.task_set_arn]
  }

  statement {
    sid = "DescribeLoadBalancing"
    actions = [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ShiftListeners"
    actions   = ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"]
    resources = concat(local.listener_arns, [for arn in local.listener_rule_arns : "${arn}/*"])
  }

  statement {
    sid       = "InvokeLifecycleHooks"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.smoke_test.arn]
  }

  statement {
    sid       = "ReadRollbackAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [for alarm in local.rollback_alarms : alarm.arn]
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task_execution.arn, aws_iam_role.app_task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "codedeploy" {
  name   = "ecs-blue-green"
  role   = aws_iam_role.codedeploy.id
  policy = data.aws_iam_policy_document.codedeploy.json
}

# --- Smoke-test hook Lambda: report its verdict for this deployment group only. ---

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "smoke_test" {
  name               = "${local.name}-smoke-test-hook"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "smoke_test" {
  statement {
    sid       = "ReportHookResult"
    actions   = ["codedeploy:PutLifecycleEventHookExecutionStatus"]
    resources = [local.deployment_group]
  }

  statement {
    sid       = "WriteHookLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.smoke_test.arn}:*"]
  }

  statement {
    sid       = "DecryptEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["lambda.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "smoke_test" {
  name   = "report-hook-status"
  role   = aws_iam_role.smoke_test.id
  policy = data.aws_iam_policy_document.smoke_test.json
}

# ENI management for a VPC Lambda and X-Ray segment upload are not resource-scopable; the AWS managed
# policies hold exactly those actions.
resource "aws_iam_role_policy_attachment" "smoke_test_vpc" {
  role       = aws_iam_role.smoke_test.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy_attachment" "smoke_test_xray" {
  role       = aws_iam_role.smoke_test.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# --- RDS enhanced monitoring. ---

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${local.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
