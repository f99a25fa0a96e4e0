# Inputs and outputs of the shared state (sessions, events, exports, flags).

variable "redis_node_type" {
  description = "ElastiCache node type for sessions and the read cache (two nodes, Multi-AZ)."
  type        = string
  default     = "cache.t4g.small"
}

variable "exports_retention_days" {
  description = "Days an export (and each overwritten version of it) is kept."
  type        = number
  default     = 30

  validation {
    condition     = var.exports_retention_days >= 1
    error_message = "exports_retention_days must be at least 1."
  }
}

output "events_queue_url" {
  description = "SQS queue of customer events (EVENTS_QUEUE_URL)."
  value       = aws_sqs_queue.events.url
}

output "events_dlq_url" {
  description = "Dead-letter queue of unreadable customer events (EVENTS_DLQ_URL)."
  value       = aws_sqs_queue.events_dlq.url
}

output "exports_bucket" {
  description = "Versioned bucket of customer exports (EXPORTS_BUCKET)."
  value       = aws_s3_bucket.exports.id
}

output "appconfig" {
  description = "AppConfig identifiers of the feature flags (APPCONFIG_APPLICATION/ENVIRONMENT/PROFILE)."
  value = {
    application = aws_appconfig_application.app.id
    environment = aws_appconfig_environment.app.environment_id
    profile     = aws_appconfig_configuration_profile.flags.configuration_profile_id
  }
}
