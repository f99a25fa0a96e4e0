# Application Load Balancer with two target groups (blue and green) that CodeDeploy swaps between,
# a production listener and a test listener. The test listener is how the replacement task set is
# validated (by the hook Lambda, and by people in test_listener_cidrs) before any customer sees it.

locals {
  test_listener_port = 8080
  https_enabled      = var.certificate_arn != ""

  # The single production listener CodeDeploy shifts: HTTPS when a certificate is given, HTTP otherwise.
  prod_listener_arn = local.https_enabled ? aws_lb_listener.https[0].arn : aws_lb_listener.http_forward[0].arn
}

resource "aws_lb" "main" {
  #checkov:skip=CKV2_AWS_28:A WAF web ACL is application-specific and priced per rule; attach your own with aws_wafv2_web_acl_association.
  #checkov:skip=CKV2_AWS_20:HTTP redirects to HTTPS whenever certificate_arn is set; without a certificate there is nothing to redirect to.
  name                       = "${local.name}-alb"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = aws_subnet.public[*].id
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  idle_timeout               = 60

  access_logs {
    bucket  = aws_s3_bucket.alb_logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the load balancer; ALB-to-task traffic stays inside the private subnets and the task security group admits only the ALB.
  for_each = toset(["blue", "green"])

  name                 = "${local.name}-${each.key}"
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = "/health"
    protocol            = "HTTP"
    port                = "traffic-port"
    matcher             = "200"
    healthy_threshold   = 2
    unhealthy_threshold = 3
    timeout             = 5
    interval            = 30
  }

  tags = { Name = "${local.name}-${each.key}", Color = each.key }
}

resource "aws_lb_listener" "http_forward" {
  #checkov:skip=CKV_AWS_2:Plain HTTP only when no certificate_arn is given (demo set-up); with one, http_redirect and https replace this listener.
  #checkov:skip=CKV_AWS_103:Same as CKV_AWS_2: TLS applies to the HTTPS listener created when certificate_arn is set.
  count = local.https_enabled ? 0 : 1

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app["blue"].arn
  }

  # CodeDeploy owns which target group the listener forwards to after the first release.
  lifecycle {
    ignore_changes = [default_action]
  }
}

resource "aws_lb_listener" "http_redirect" {
  count = local.https_enabled ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https_enabled ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app["blue"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}

# Like the production listener it starts on the blue target group (never on an empty one); during a
# deployment CodeDeploy points it at the replacement task set.
resource "aws_lb_listener" "test" {
  #checkov:skip=CKV_AWS_2:The test listener carries synthetic smoke-test traffic only and is restricted to test_listener_cidrs and the NAT addresses.
  #checkov:skip=CKV_AWS_103:Same as CKV_AWS_2: no TLS on the restricted test listener.
  load_balancer_arn = aws_lb.main.arn
  port              = local.test_listener_port
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app["blue"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}
