variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like an AWS region name, e.g. eu-west-1."
  }
}

variable "project_name" {
  description = "Short name used as a prefix for every resource."
  type        = string
  default     = "expandcontract"

  # "<project>-<environment>-green" names a target group, and AWS allows 32 characters there (and
  # for the ALB): with a 10-character environment the project may have 15.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,13}[a-z0-9]$", var.project_name))
    error_message = "project_name must be 2-15 characters of lower-case letters, digits and hyphens, not ending in a hyphen (target group and ALB names are limited to 32 characters)."
  }
}

variable "environment" {
  description = "Environment name (part of every resource name), e.g. prod or staging."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lower-case letters or digits."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; public and private subnets are carved out of it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /20 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones (ALB and RDS Multi-AZ need at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "Use one NAT gateway for all private subnets (cheaper, but one AZ failure cuts egress)."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the production listener (80/443). The public app is open to the internet by default."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.alb_ingress_cidrs) > 0 && alltrue([for c in var.alb_ingress_cidrs : can(cidrnetmask(c))])
    error_message = "alb_ingress_cidrs must be a non-empty list of valid IPv4 CIDR blocks."
  }
}

variable "test_listener_cidrs" {
  description = "CIDR blocks (office, VPN, CI runners) allowed to reach the test listener on port 8080. The smoke-test Lambda is always allowed through the NAT gateway addresses."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for c in var.test_listener_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"
    ])
    error_message = "test_listener_cidrs must be valid IPv4 CIDR blocks and must not contain 0.0.0.0/0: the test listener serves unreleased code."
  }
}

variable "db_client_security_group_ids" {
  description = "Extra security groups allowed to reach PostgreSQL, e.g. self-hosted CI runners inside the VPC that run `expandcontract ecs-release` and write the release ledger. Never a CIDR range."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.db_client_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "db_client_security_group_ids must be security group ids (sg-...)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener on 443. When empty the production listener is plain HTTP on 80; when set, 80 redirects to 443."
  type        = string
  default     = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be empty or an ACM certificate ARN."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer from deletion. Set to false (and apply) before terraform destroy."
  type        = bool
  default     = true
}

variable "image_tag" {
  description = "Tag of the application image in the ECR repository for the initial task definition. Later releases register new task definitions through CodeDeploy (expandcontract ecs-release)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid Docker tag."
  }
}

variable "app_version" {
  description = "APP_VERSION of the initial task definition: blue (v1 schema reader) or green (v2)."
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.app_version)
    error_message = "app_version must be blue or green."
  }
}

variable "container_port" {
  description = "Port gunicorn listens on inside the container."
  type        = number
  default     = 8000

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "container_port must be an unprivileged port (1024-65535): the container runs as a non-root user."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be one of 256, 512, 1024, 2048, 4096."
  }
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must be valid for task_cpu)."
  type        = number
  default     = 1024

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720
    error_message = "task_memory must be between 512 and 30720 MiB."
  }
}

variable "desired_count" {
  description = "Number of application tasks."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1
    error_message = "desired_count must be at least 1."
  }
}

variable "app_secrets" {
  description = "Extra secrets injected into the app container: environment variable name => ARN of a Secrets Manager secret (optionally with a :json-key:: suffix) or an SSM SecureString parameter."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for arn in values(var.app_secrets) : can(regex("^arn:aws[a-z-]*:(secretsmanager|ssm):", arn))
    ])
    error_message = "app_secrets values must be Secrets Manager or SSM parameter ARNs."
  }
}

variable "enable_execute_command" {
  description = "Allow ECS Exec (SSM Session Manager) into running tasks. This replaces an SSH bastion; leave off unless needed."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the application, migration, hook and flow-log log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least 365 days."
  }
}

variable "deployment_config_name" {
  description = "CodeDeploy deployment configuration for traffic shifting."
  type        = string
  default     = "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,100}$", var.deployment_config_name))
    error_message = "deployment_config_name must be a CodeDeploy deployment configuration name."
  }
}

variable "ready_wait_minutes" {
  description = "How long CodeDeploy holds the replacement task set on the test listener before traffic shifts. The deployment stops (and rolls back) unless it is continued within this time, so the test listener can be validated first."
  type        = number
  default     = 60

  validation {
    condition     = var.ready_wait_minutes >= 1 && var.ready_wait_minutes <= 2880
    error_message = "ready_wait_minutes must be between 1 and 2880."
  }
}

variable "termination_wait_minutes" {
  description = "How long the original (blue) task set is kept after a successful shift, for a fast rollback."
  type        = number
  default     = 120

  validation {
    condition     = var.termination_wait_minutes >= 0 && var.termination_wait_minutes <= 2880
    error_message = "termination_wait_minutes must be between 0 and 2880."
  }
}

variable "alarm_5xx_rate_percent" {
  description = "Target 5XX responses as a percentage of requests, per target group, above which the deployment rolls back."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_5xx_rate_percent > 0 && var.alarm_5xx_rate_percent <= 100
    error_message = "alarm_5xx_rate_percent must be in (0, 100]."
  }
}

variable "alarm_min_requests" {
  description = "Minimum requests per period before the 5XX rate is judged, so one failed request out of two does not roll back."
  type        = number
  default     = 20

  validation {
    condition     = var.alarm_min_requests >= 1
    error_message = "alarm_min_requests must be at least 1."
  }
}

variable "alarm_p99_latency_seconds" {
  description = "p99 target response time per target group above which the deployment rolls back."
  type        = number
  default     = 2

  validation {
    condition     = var.alarm_p99_latency_seconds > 0
    error_message = "alarm_p99_latency_seconds must be positive."
  }
}

variable "alarm_evaluation_periods" {
  description = "Number of 1-minute periods evaluated by each alarm (datapoints_to_alarm is one less, minimum 1)."
  type        = number
  default     = 3

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_evaluation_periods <= 10
    error_message = "alarm_evaluation_periods must be between 1 and 10."
  }
}

variable "smoke_test_timeout_seconds" {
  description = "Per-request timeout of the smoke-test hook Lambda."
  type        = number
  default     = 5

  validation {
    condition     = var.smoke_test_timeout_seconds >= 1 && var.smoke_test_timeout_seconds <= 20
    error_message = "smoke_test_timeout_seconds must be between 1 and 20."
  }
}

variable "smoke_test_reserved_concurrency" {
  description = "Concurrency reserved for the smoke-test hook (one run per deployment needs 1). Accounts whose total Lambda concurrency is 10 cannot reserve any: set -1 there."
  type        = number
  default     = 2

  validation {
    condition     = var.smoke_test_reserved_concurrency == -1 || (var.smoke_test_reserved_concurrency >= 1 && var.smoke_test_reserved_concurrency <= 10)
    error_message = "smoke_test_reserved_concurrency must be -1 (unreserved) or 1-10."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL engine version (major or major.minor); the parameter group family follows the major version."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-7](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be PostgreSQL 14-17, e.g. 16 or 16.4."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"

  validation {
    condition     = can(regex("^db\\.", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.small."
  }
}

variable "db_allocated_storage" {
  description = "Initial storage in GiB (storage autoscaling grows it up to db_max_allocated_storage)."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "db_allocated_storage must be at least 20 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Upper bound for RDS storage autoscaling in GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage >= 20
    error_message = "db_max_allocated_storage must be at least 20 GiB."
  }
}

variable "db_name" {
  description = "Name of the application database."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and contain only lower-case letters, digits and underscores."
  }
}

variable "db_username" {
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager; there is no password variable."
  type        = string
  default     = "app_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_username)) && !contains(["admin", "postgres", "rdsadmin"], var.db_username)
    error_message = "db_username must be a valid PostgreSQL identifier and not a reserved name."
  }
}

variable "db_multi_az" {
  description = "Run the database Multi-AZ (a standby in a second AZ)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_deletion_protection" {
  description = "Protect the database from deletion. Set to false (and apply) before terraform destroy; a final snapshot is always taken."
  type        = bool
  default     = true
}

variable "db_app_username" {
  description = "The app's own database role (created by infra/sql/app_role.sql), logging in with RDS IAM authentication."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_app_username))
    error_message = "db_app_username must be a lower-case PostgreSQL identifier of at most 63 characters."
  }
}
