# CodeDeploy blue/green for the ECS service. A deployment:
#   1. starts the replacement task set in the idle target group and points the test listener at it;
#   2. runs the AfterAllowTestTraffic hook (the smoke-test Lambda) through the test listener;
#   3. WAITS (deployment_ready_option STOP_DEPLOYMENT): nothing shifts until the release helper or an
#      operator continues the deployment after validating the test listener; if nobody does within
#      ready_wait_minutes the deployment stops and rolls back;
#   4. shifts production traffic with deployment_config_name (default linear 10 % every 3 minutes),
#      rolling back automatically on failure, on a manual stop, or when a rollback alarm fires;
#   5. keeps the original task set for termination_wait_minutes so a rollback is instant.

locals {
  codedeploy_group_name = "${local.name}-app"
}

resource "aws_codedeploy_app" "main" {
  name             = local.name
  compute_platform = "ECS"
}

resource "aws_codedeploy_deployment_group" "app" {
  app_name               = aws_codedeploy_app.main.name
  deployment_group_name  = local.codedeploy_group_name
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = var.deployment_config_name

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout    = "STOP_DEPLOYMENT"
      wait_time_in_minutes = var.ready_wait_minutes
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]
  }

  alarm_configuration {
    enabled                   = true
    ignore_poll_alarm_failure = false
    alarms                    = [for alarm in local.rollback_alarms : alarm.alarm_name]
  }

  ecs_service {
    cluster_name = aws_ecs_cluster.main.name
    service_name = aws_ecs_service.app.name
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [local.prod_listener_arn]
      }

      test_traffic_route {
        listener_arns = [aws_lb_listener.test.arn]
      }

      target_group {
        name = aws_lb_target_group.app["blue"].name
      }

      target_group {
        name = aws_lb_target_group.app["green"].name
      }
    }
  }

  depends_on = [aws_iam_role_policy.codedeploy]
}
