# What the app task may do with the shared state, and nothing more: publish to and consume from its
# queue, dead-letter into its DLQ, read and write exports, read its flags, and use the project key only
# through SQS and S3. The execution role may read the Redis URL secret to inject it.

data "aws_iam_policy_document" "app_task_state" {
  statement {
    sid       = "CustomerEvents"
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.events.arn]
  }
  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.events_dlq.arn]
  }
  statement {
    sid       = "ExportObjects"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.exports.arn}/v*/exports/*"]
  }
  statement {
    sid       = "ExportBucketHealth"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.exports.arn]
  }
  statement {
    sid       = "FeatureFlags"
    actions   = ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"]
    resources = [local.appconfig_configuration_arn]
  }
  statement {
    sid       = "ProjectKeyViaQueueAndBucket"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.aws_region}.amazonaws.com", "s3.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "app_task_state" {
  name   = "shared-state"
  role   = aws_iam_role.app_task.id
  policy = data.aws_iam_policy_document.app_task_state.json
}

data "aws_iam_policy_document" "task_execution_state" {
  statement {
    sid       = "RedisUrlSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.redis_url.arn]
  }
}

resource "aws_iam_role_policy" "task_execution_state" {
  name   = "shared-state-secret"
  role   = aws_iam_role.task_execution.id
  policy = data.aws_iam_policy_document.task_execution_state.json
}
