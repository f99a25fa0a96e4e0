# Rollback alarms. Both target groups are watched, because after each release the roles swap: the
# group serving the replacement task set is "green" one time and "blue" the next. Errors are judged
# as a RATE (5XX / requests, metric math) with a minimum request count, not as an absolute count that
# fires on a busy service and never on a quiet one. Missing data is not breaching: an idle target
# group must not roll a deployment back.

locals {
  target_groups = {
    for color, tg in aws_lb_target_group.app : color => {
      dimension = tg.arn_suffix
      name      = tg.name
    }
  }
  datapoints_to_alarm = max(1, var.alarm_evaluation_periods - 1)
}

resource "aws_cloudwatch_metric_alarm" "target_5xx_rate" {
  for_each = local.target_groups

  alarm_name          = "${local.name}-${each.key}-5xx-rate"
  alarm_description   = "Target 5XX rate (%) of the ${each.key} target group above ${var.alarm_5xx_rate_percent}% with at least ${var.alarm_min_requests} requests per minute; rolls back CodeDeploy."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_rate_percent
  evaluation_periods  = var.alarm_evaluation_periods
  datapoints_to_alarm = local.datapoints_to_alarm
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "error_rate"
    label       = "5XX rate (%)"
    expression  = "IF(requests >= ${var.alarm_min_requests}, 100 * errors / requests, 0)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = aws_lb.main.arn_suffix
        TargetGroup  = each.value.dimension
      }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = aws_lb.main.arn_suffix
        TargetGroup  = each.value.dimension
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "target_p99_latency" {
  for_each = local.target_groups

  alarm_name          = "${local.name}-${each.key}-p99-latency"
  alarm_description   = "p99 target response time of the ${each.key} target group above ${var.alarm_p99_latency_seconds}s; rolls back CodeDeploy."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_p99_latency_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  datapoints_to_alarm = local.datapoints_to_alarm
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = each.value.dimension
  }
}

locals {
  rollback_alarms = concat(
    [for color in ["blue", "green"] : aws_cloudwatch_metric_alarm.target_5xx_rate[color]],
    [for color in ["blue", "green"] : aws_cloudwatch_metric_alarm.target_p99_latency[color]],
  )
}
