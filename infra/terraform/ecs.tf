# ECS cluster, the app task definition, the one-off migration task definition and the Fargate service.
# The service uses the CODE_DEPLOY deployment controller: after the first apply, releases are CodeDeploy
# blue/green deployments (expandcontract ecs-release), never Terraform updates of the service.

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

locals {
  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  # The app connects with DB_HOST/DB_PORT/DB_NAME plus DB_USER/DB_PASSWORD taken from the RDS-managed
  # master-user secret (JSON keys "username" and "password"); nothing secret is in the task definition.
  db_secret_arn = aws_db_instance.main.master_user_secret[0].secret_arn

  db_environment = [
    { name = "DB_HOST", value = aws_db_instance.main.address },
    { name = "DB_PORT", value = tostring(aws_db_instance.main.port) },
    { name = "DB_NAME", value = var.db_name },
    { name = "DB_SSLMODE", value = "require" },
  ]

  # The migration task connects as the master user (the migration role: it owns the schema and the
  # ledger). It reads the RDS-managed secret at start and lives minutes, so rotation cannot strand it.
  container_secrets = concat(
    [
      { name = "DB_USER", valueFrom = "${local.db_secret_arn}:username::" },
      { name = "DB_PASSWORD", valueFrom = "${local.db_secret_arn}:password::" },
    ],
    [for env_name, arn in var.app_secrets : { name = env_name, valueFrom = arn }],
    local.state_secrets,
  )

  # The app connects as its own role (infra/sql/app_role.sql: rows only, nothing on the ledger) with
  # RDS IAM authentication: a fresh token for every new connection (infra/docker/rds_iam_auth.py), so
  # there is no password to go stale when credentials rotate while the tasks run for days.
  app_db_environment = [
    { name = "DB_USER", value = var.db_app_username },
    { name = "DB_IAM_AUTH", value = "1" },
    { name = "AWS_REGION", value = var.aws_region },
  ]
  app_secrets = [for env_name, arn in var.app_secrets : { name = env_name, valueFrom = arn }]

  # Secrets Manager ARNs may carry a ":json-key:version-stage:version-id" suffix; IAM needs the secret ARN.
  extra_secretsmanager_arns = [
    for arn in values(var.app_secrets) :
    regex("^(arn:[^:]+:secretsmanager:[^:]+:[0-9]+:secret:[^:]+)", arn)[0]
    if can(regex(":secretsmanager:", arn))
  ]
  extra_ssm_parameter_arns = [for arn in values(var.app_secrets) : arn if can(regex(":ssm:", arn))]

  log_configuration = {
    logDriver = "awslogs"
    options = {
      "awslogs-group"         = aws_cloudwatch_log_group.app.name
      "awslogs-region"        = var.aws_region
      "awslogs-stream-prefix" = "app"
    }
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = "${local.name}-app"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.app_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # Writable scratch space for gunicorn's worker heartbeat files; the root filesystem is read-only.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = local.container_name
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    portMappings = [{
      containerPort = var.container_port
      protocol      = "tcp"
    }]
    environment = concat(local.db_environment, local.app_db_environment, local.state_environment, [
      { name = "APP_VERSION", value = var.app_version },
      { name = "PORT", value = tostring(var.container_port) },
    ])
    secrets          = local.app_secrets
    mountPoints      = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    logConfiguration = local.log_configuration
    # Same probe as the Dockerfile HEALTHCHECK: /health answers 503 when the live schema cannot serve
    # this release, so ECS replaces the task instead of letting it serve errors.
    healthCheck = {
      command     = ["CMD", "docker-healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    stopTimeout = 30
  }])
}

# The one-off migration task: same image, run with an explicit command override such as
# ["expandcontract", "upgrade", "expand"] by `expandcontract ecs-release` / `aws ecs run-task`.
# Its default command only reports status, so a task started without an override changes nothing.
resource "aws_ecs_task_definition" "migration" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.migration_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "migrate"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    command                = ["expandcontract", "status", "--format", "json"]
    environment = concat(local.db_environment, [
      { name = "APP_VERSION", value = var.app_version },
    ])
    secrets     = local.container_secrets
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    logConfiguration = merge(local.log_configuration, {
      options = merge(local.log_configuration.options, { "awslogs-stream-prefix" = "migrate" })
    })
    # A backfill must be allowed to finish its current batch and persist its cursor on SIGTERM.
    stopTimeout = 120
  }])
}

resource "aws_ecs_service" "app" {
  name                              = "${local.name}-app"
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.app.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 60
  enable_execute_command            = var.enable_execute_command
  propagate_tags                    = "SERVICE"

  deployment_controller {
    type = "CODE_DEPLOY"
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app["blue"].arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  # CodeDeploy registers task definitions and swaps target groups; Terraform must not undo that. ECS
  # also rejects UpdateService changes of the network configuration, platform version and capacity
  # providers on a CODE_DEPLOY service: they reach production through the next release, whose
  # AppSpec carries them (subnets and security group from this stack's outputs).
  lifecycle {
    ignore_changes = [
      task_definition,
      load_balancer,
      network_configuration,
      platform_version,
      capacity_provider_strategy,
    ]
  }

  depends_on = [aws_lb_listener.http_forward, aws_lb_listener.https, aws_lb_listener.test]
}
