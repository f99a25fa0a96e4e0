# Security groups reference each other instead of CIDR ranges wherever both ends are ours:
# internet -> ALB -> tasks -> database. The database accepts nothing but PostgreSQL from the tasks
# (the app and the one-off migration task share the task group) and from security groups listed in
# db_client_security_group_ids (a release runner inside the VPC). There is no SSH rule anywhere.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Load balancer: production listener from alb_ingress_cidrs, test listener from test_listener_cidrs"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:The production listener serves a public web app; alb_ingress_cidrs narrows it when the app is not public.
  for_each = toset(var.alb_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "Production listener (HTTP) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = var.certificate_arn == "" ? toset([]) : toset(var.alb_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "Production listener (HTTPS) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_test_listener" {
  for_each = toset(var.test_listener_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "Test listener (pre-release validation) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = local.test_listener_port
  to_port           = local.test_listener_port
  cidr_ipv4         = each.value
}

# The hook Lambda runs in the private subnets and reaches the internet-facing ALB through the NAT
# gateways, so their addresses are what the test listener sees as the source of the smoke test.
# (count, not for_each: the addresses are only known after apply.)
resource "aws_vpc_security_group_ingress_rule" "alb_test_listener_from_nat" {
  count = local.nat_count

  security_group_id = aws_security_group.alb.id
  description       = "Test listener from NAT gateway ${count.index} (smoke-test hook Lambda)"
  ip_protocol       = "tcp"
  from_port         = local.test_listener_port
  to_port           = local.test_listener_port
  cidr_ipv4         = "${aws_eip.nat[count.index].public_ip}/32"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Forward requests and health checks to the app tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_security_group" "tasks" {
  name        = "${local.name}-tasks"
  description = "App and migration tasks: traffic only from the ALB"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-tasks" }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "App port from the load balancer only"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, Secrets Manager, SSM, CloudWatch Logs) through NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_db" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "PostgreSQL: reachable only from the app and migration tasks"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-db" }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_tasks" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the app and migration tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_clients" {
  for_each = toset(var.db_client_security_group_ids)

  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from ${each.value} (release runner writing the ledger)"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = each.value
}

resource "aws_security_group" "hook_lambda" {
  name        = "${local.name}-hook-lambda"
  description = "CodeDeploy smoke-test hook: egress only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-hook-lambda" }
}

resource "aws_vpc_security_group_egress_rule" "hook_test_listener" {
  security_group_id = aws_security_group.hook_lambda.id
  description       = "Test listener on the internet-facing ALB, through NAT"
  ip_protocol       = "tcp"
  from_port         = local.test_listener_port
  to_port           = local.test_listener_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "hook_https" {
  security_group_id = aws_security_group.hook_lambda.id
  description       = "HTTPS to the CodeDeploy API through NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
