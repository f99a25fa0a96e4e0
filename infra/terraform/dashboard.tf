# Blue and green side by side: each row is one measure, blue on the left, green on the right, with
# the same period and statistic, so a release can be judged at a glance while traffic shifts.

locals {
  dashboard_colors = ["blue", "green"]

  dashboard_plain_rows = [
    { title = "Requests", metric = "RequestCount", stat = "Sum", y = 0 },
    { title = "p99 latency (s)", metric = "TargetResponseTime", stat = "p99", y = 12 },
    { title = "Healthy targets", metric = "HealthyHostCount", stat = "Minimum", y = 18 },
  ]

  dashboard_plain_widgets = flatten([
    for row in local.dashboard_plain_rows : [
      for col_index, color in local.dashboard_colors : {
        type   = "metric"
        x      = col_index * 12
        y      = row.y
        width  = 12
        height = 6
        properties = {
          title  = "${color}: ${row.title}"
          region = var.aws_region
          view   = "timeSeries"
          period = 60
          stat   = row.stat
          metrics = [
            ["AWS/ApplicationELB", row.metric, "TargetGroup", local.target_groups[color].dimension, "LoadBalancer", aws_lb.main.arn_suffix],
          ]
        }
      }
    ]
  ])

  # The 5XX row shows the same rate the rollback alarms judge, not a raw count.
  dashboard_rate_widgets = [
    for col_index, color in local.dashboard_colors : {
      type   = "metric"
      x      = col_index * 12
      y      = 6
      width  = 12
      height = 6
      properties = {
        title  = "${color}: target 5XX rate (%)"
        region = var.aws_region
        view   = "timeSeries"
        period = 60
        stat   = "Sum"
        metrics = [
          [{ expression = "IF(requests > 0, 100 * errors / requests, 0)", label = "5XX rate (%)", id = "rate" }],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "TargetGroup", local.target_groups[color].dimension, "LoadBalancer", aws_lb.main.arn_suffix, { id = "errors", visible = false }],
          ["AWS/ApplicationELB", "RequestCount", "TargetGroup", local.target_groups[color].dimension, "LoadBalancer", aws_lb.main.arn_suffix, { id = "requests", visible = false }],
        ]
      }
    }
  ]
}

resource "aws_cloudwatch_dashboard" "blue_green" {
  dashboard_name = "${local.name}-blue-green"
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_plain_widgets, local.dashboard_rate_widgets) })
}
