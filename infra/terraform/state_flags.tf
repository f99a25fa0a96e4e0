# Feature flags: one deployment carries both code paths, AppConfig switches between them, optionally for
# a percentage of users (the app hashes the user id, so blue and green answer alike). The app polls the
# AppConfig Data API (StartConfigurationSession / GetLatestConfiguration).

resource "aws_appconfig_application" "app" {
  name        = local.name
  description = "${local.name} feature flags"
}

resource "aws_appconfig_environment" "app" {
  name           = var.environment
  application_id = aws_appconfig_application.app.id
  description    = "${local.name} ${var.environment}"
}

resource "aws_appconfig_configuration_profile" "flags" {
  application_id     = aws_appconfig_application.app.id
  name               = "feature-flags"
  location_uri       = "hosted"
  type               = "AWS.AppConfig.FeatureFlags"
  kms_key_identifier = aws_kms_key.main.arn
}

# The starting values; later changes are AppConfig deployments, not Terraform applies.
resource "aws_appconfig_hosted_configuration_version" "flags" {
  application_id           = aws_appconfig_application.app.id
  configuration_profile_id = aws_appconfig_configuration_profile.flags.configuration_profile_id
  content_type             = "application/json"
  content = jsonencode({
    version = "1"
    flags = {
      structured_address_v1 = {
        name        = "structured_address_v1"
        description = "The v1 API also returns address_parts (structured) to a share of users"
        attributes = {
          percentage = { constraints = { type = "number", minimum = 0, maximum = 100 } }
        }
      }
    }
    values = {
      structured_address_v1 = { enabled = false, percentage = 0 }
    }
  })

  lifecycle {
    ignore_changes = [content]
  }
}

locals {
  appconfig_configuration_arn = "arn:${local.partition}:appconfig:${var.aws_region}:${local.account_id}:application/${aws_appconfig_application.app.id}/environment/${aws_appconfig_environment.app.environment_id}/configuration/${aws_appconfig_configuration_profile.flags.configuration_profile_id}"

  # The app's settings for the shared state (see README "State beyond the database").
  state_environment = [
    { name = "EVENTS_QUEUE_URL", value = aws_sqs_queue.events.url },
    { name = "EVENTS_DLQ_URL", value = aws_sqs_queue.events_dlq.url },
    { name = "EXPORTS_BUCKET", value = aws_s3_bucket.exports.id },
    { name = "APPCONFIG_APPLICATION", value = aws_appconfig_application.app.id },
    { name = "APPCONFIG_ENVIRONMENT", value = aws_appconfig_environment.app.environment_id },
    { name = "APPCONFIG_PROFILE", value = aws_appconfig_configuration_profile.flags.configuration_profile_id },
    { name = "SESSION_STORE", value = "redis" },
  ]
  state_secrets = [
    { name = "REDIS_URL", valueFrom = aws_secretsmanager_secret.redis_url.arn },
  ]
}
