# Everything the release helpers need. `terraform output -json > outputs.json` feeds
# `expandcontract ecs-release --from-terraform outputs.json`; keep these names stable.

output "aws_region" {
  description = "Region everything is deployed in."
  value       = var.aws_region
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.main.name
}

output "service_name" {
  description = "ECS service (CODE_DEPLOY controller) name."
  value       = aws_ecs_service.app.name
}

output "task_family" {
  description = "Task definition family of the app; releases register new revisions of it."
  value       = aws_ecs_task_definition.app.family
}

output "app_task_definition_arn" {
  description = "The Terraform-managed app task definition revision: the source every release clones (new image, APP_VERSION)."
  value       = aws_ecs_task_definition.app.arn
}

output "migration_task_definition_arn" {
  description = "The Terraform-managed migration task definition revision: the source of each release's migration task."
  value       = aws_ecs_task_definition.migration.arn
}

output "migration_task_family" {
  description = "Task definition family for one-off migration runs (command overridden per run)."
  value       = aws_ecs_task_definition.migration.family
}

output "migration_container_name" {
  description = "Container name inside the migration task definition (for command overrides)."
  value       = "migrate"
}

output "container_name" {
  description = "App container name (AppSpec LoadBalancerInfo.ContainerName)."
  value       = local.container_name
}

output "container_port" {
  description = "App container port (AppSpec LoadBalancerInfo.ContainerPort)."
  value       = var.container_port
}

output "codedeploy_app_name" {
  description = "CodeDeploy application name."
  value       = aws_codedeploy_app.main.name
}

output "codedeploy_group_name" {
  description = "CodeDeploy deployment group name."
  value       = aws_codedeploy_deployment_group.app.deployment_group_name
}

output "deployment_config_name" {
  description = "CodeDeploy deployment configuration used for traffic shifting."
  value       = var.deployment_config_name
}

output "prod_listener_arn" {
  description = "Production listener ARN (HTTPS when a certificate is configured)."
  value       = local.prod_listener_arn
}

output "test_listener_arn" {
  description = "Test listener ARN (port 8080, restricted)."
  value       = aws_lb_listener.test.arn
}

output "test_listener_url" {
  description = "Base URL of the test listener."
  value       = "http://${aws_lb.main.dns_name}:${local.test_listener_port}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.main.dns_name
}

output "load_balancer_arn_suffix" {
  description = "LoadBalancer dimension for CloudWatch metrics."
  value       = aws_lb.main.arn_suffix
}

output "blue_target_group_arn" {
  description = "ARN of the target group the service starts on."
  value       = aws_lb_target_group.app["blue"].arn
}

output "green_target_group_arn" {
  description = "ARN of the second target group."
  value       = aws_lb_target_group.app["green"].arn
}

output "blue_target_group_name" {
  description = "Name of the blue target group."
  value       = aws_lb_target_group.app["blue"].name
}

output "green_target_group_name" {
  description = "Name of the green target group."
  value       = aws_lb_target_group.app["green"].name
}

output "blue_target_group_arn_suffix" {
  description = "TargetGroup dimension of the blue target group for CloudWatch metrics."
  value       = aws_lb_target_group.app["blue"].arn_suffix
}

output "green_target_group_arn_suffix" {
  description = "TargetGroup dimension of the green target group for CloudWatch metrics."
  value       = aws_lb_target_group.app["green"].arn_suffix
}

output "rollback_alarm_names" {
  description = "CloudWatch alarms that roll a deployment back."
  value       = [for alarm in local.rollback_alarms : alarm.alarm_name]
}

output "smoke_test_function_name" {
  description = "Name of the AfterAllowTestTraffic hook Lambda."
  value       = aws_lambda_function.smoke_test.function_name
}

output "smoke_test_function_arn" {
  description = "ARN of the AfterAllowTestTraffic hook Lambda (AppSpec Hooks)."
  value       = aws_lambda_function.smoke_test.arn
}

output "db_instance_identifier" {
  description = "RDS instance identifier (pre-contract snapshots are taken of it)."
  value       = aws_db_instance.main.identifier
}

output "db_endpoint" {
  description = "Database host name."
  value       = aws_db_instance.main.address
}

output "db_master_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master credentials."
  value       = local.db_secret_arn
}

output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "Private subnets for tasks (including one-off migration tasks)."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer and NAT gateways only)."
  value       = aws_subnet.public[*].id
}

output "task_security_group_id" {
  description = "Security group for app and migration tasks."
  value       = aws_security_group.tasks.id
}

output "alb_security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "db_security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}

output "log_group_name" {
  description = "CloudWatch log group of app and migration tasks."
  value       = aws_cloudwatch_log_group.app.name
}

output "ecr_repository_url" {
  description = "ECR repository the CI workflow pushes images to."
  value       = aws_ecr_repository.app.repository_url
}

output "dashboard_name" {
  description = "CloudWatch dashboard comparing blue and green."
  value       = aws_cloudwatch_dashboard.blue_green.dashboard_name
}

output "release_policy_arn" {
  description = "IAM policy to attach to the CI role that runs the expandcontract release helpers."
  value       = aws_iam_policy.release.arn
}
