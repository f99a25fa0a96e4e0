# What the CI role running the release helpers (`expandcontract ecs-release`, `rollback`, `snapshot`,
# `contract`) may do, scoped to this stack. Attach release_policy_arn to the role your workflow
# assumes through OIDC instead of a broad managed policy. Restoring a snapshot is deliberately not
# included: it is an operator's decision, made with wider rights.

locals {
  cluster_arn        = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:cluster/${aws_ecs_cluster.main.name}"
  deployment_group   = "arn:${local.partition}:codedeploy:${var.aws_region}:${local.account_id}:deploymentgroup:${aws_codedeploy_app.main.name}/${local.codedeploy_group_name}"
  codedeploy_app_arn = "arn:${local.partition}:codedeploy:${var.aws_region}:${local.account_id}:application:${aws_codedeploy_app.main.name}"
  # Every revision of a family; ecs-release registers new ones in both.
  app_task_definitions       = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-definition/${aws_ecs_task_definition.app.family}:*"
  migration_task_definitions = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-definition/${aws_ecs_task_definition.migration.family}:*"
}

data "aws_iam_policy_document" "release" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [aws_ecr_repository.app.arn]
  }

  # Task definitions are registered and described by family; ECS does not scope these two actions.
  statement {
    sid       = "CloneTaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
    resources = ["*"]
  }

  # A clone keeps the source's tags (the provider's default_tags), and ECS authorises tags given on
  # creation as ecs:TagResource: without it RegisterTaskDefinition is denied.
  statement {
    sid       = "TagClonedTaskDefinitions"
    actions   = ["ecs:TagResource"]
    resources = [local.app_task_definitions, local.migration_task_definitions]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }

  statement {
    sid       = "ReadService"
    actions   = ["ecs:DescribeServices"]
    resources = [local.service_arn]
  }

  statement {
    sid       = "RunMigrationTask"
    actions   = ["ecs:RunTask"]
    resources = [local.migration_task_definitions]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "WatchMigrationTask"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${aws_ecs_cluster.main.name}/*"]
  }

  statement {
    sid     = "PassTaskRoles"
    actions = ["iam:PassRole"]
    resources = [
      aws_iam_role.task_execution.arn,
      aws_iam_role.app_task.arn,
      aws_iam_role.migration_task.arn,
    ]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid = "DeployThroughCodeDeploy"
    actions = [
      "codedeploy:ContinueDeployment",
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:GetDeploymentTarget",
      "codedeploy:ListDeployments",
      "codedeploy:ListDeploymentTargets",
      "codedeploy:StopDeployment",
    ]
    resources = [local.deployment_group]
  }

  statement {
    sid       = "RegisterAppSpecRevisions"
    actions   = ["codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"]
    resources = [local.codedeploy_app_arn]
  }

  statement {
    sid       = "ReadDeploymentConfigs"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["arn:${local.partition}:codedeploy:${var.aws_region}:${local.account_id}:deploymentconfig:*"]
  }

  statement {
    sid = "ReadTraffic"
    actions = [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  # Break-glass only: `expandcontract rollback --listener` refuses a target group without healthy targets.
  statement {
    sid       = "BreakGlassListenerFlip"
    actions   = ["elasticloadbalancing:ModifyListener"]
    resources = [local.prod_listener_arn]
  }

  # `ecs-release --preflight`: everything is checked before the first change.
  statement {
    sid       = "PreflightCluster"
    actions   = ["ecs:DescribeClusters"]
    resources = [aws_ecs_cluster.main.arn]
  }

  statement {
    sid     = "PreflightRoles"
    actions = ["iam:GetRole"]
    resources = [
      aws_iam_role.codedeploy.arn,
      aws_iam_role.task_execution.arn,
      aws_iam_role.app_task.arn,
      aws_iam_role.migration_task.arn,
    ]
  }

  statement {
    sid       = "PreflightImage"
    actions   = ["ecr:DescribeImages"]
    resources = [aws_ecr_repository.app.arn]
  }

  # A failed migration task's last log lines are printed with the failure.
  statement {
    sid       = "MigrationTaskLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  statement {
    sid       = "CompareBlueAndGreen"
    actions   = ["cloudwatch:GetMetricData"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadRollbackAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [for alarm in local.rollback_alarms : alarm.arn]
  }

  # The instance ARN in the same statement limits snapshots to this database.
  statement {
    sid = "PreContractSnapshots"
    actions = [
      "rds:AddTagsToResource",
      "rds:CreateDBSnapshot",
      "rds:DescribeDBInstances",
      "rds:DescribeDBSnapshots",
    ]
    resources = [
      aws_db_instance.main.arn,
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:snapshot:*",
    ]
  }

  statement {
    sid       = "LedgerCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.db_secret_arn]
  }

  statement {
    sid       = "DecryptLedgerCredentials"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "release" {
  name        = "${local.name}-release"
  description = "Least privilege for the expandcontract release helpers on ${local.name}"
  policy      = data.aws_iam_policy_document.release.json
}
