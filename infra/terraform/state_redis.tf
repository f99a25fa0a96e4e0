# Sessions and the read cache shared by blue and green: ElastiCache for Redis, private, encrypted at
# rest (the project key) and in transit, with an AUTH token. A user signed in on blue stays signed in
# on green and after a rollback because neither release keeps sessions in its own memory.
# The app reads the whole connection URL (rediss://:token@host:6379/0) from one secret.

resource "aws_elasticache_subnet_group" "state" {
  name       = "${local.name}-state"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_security_group" "redis" {
  name        = "${local.name}-redis"
  description = "ElastiCache Redis for sessions and the read cache: reachable from the app tasks only"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.name}-redis" }
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_tasks" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the app tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_redis" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "App tasks to Redis"
  referenced_security_group_id = aws_security_group.redis.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# Generated once; ignore_changes keeps a new plan from rotating it under running tasks.
data "aws_secretsmanager_random_password" "redis" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_elasticache_replication_group" "state" {
  replication_group_id       = "${local.name}-state"
  description                = "${local.name} sessions and read cache (shared by blue and green)"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.state.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  auth_token                 = data.aws_secretsmanager_random_password.redis.random_password
  snapshot_retention_limit   = 1
  auto_minor_version_upgrade = true

  lifecycle {
    ignore_changes = [auth_token]
  }
}

resource "aws_secretsmanager_secret" "redis_url" {
  #checkov:skip=CKV2_AWS_57:ElastiCache AUTH tokens have no Secrets Manager rotation function; rotate with modify-replication-group --auth-token-update-strategy ROTATE.
  name       = "${local.name}/redis-url"
  kms_key_id = aws_kms_key.main.arn
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  secret_id     = aws_secretsmanager_secret.redis_url.id
  secret_string = "rediss://:${data.aws_secretsmanager_random_password.redis.random_password}@${aws_elasticache_replication_group.state.primary_endpoint_address}:6379/0"

  lifecycle {
    ignore_changes = [secret_string]
  }
}
