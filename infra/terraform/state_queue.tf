# Customer events: blue publishes schema_version 1, green 2; each release's consumer reads both.
# A message no consumer can read is moved to the dead-letter queue by the consumer itself, with the
# reason as a message attribute; the redrive policy is the backstop for a consumer that crashes on one.

resource "aws_sqs_queue" "events_dlq" {
  name                              = "${local.name}-customer-events-dlq"
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600 # 14 days, the maximum: time to look at what failed
}

resource "aws_sqs_queue" "events" {
  name                              = "${local.name}-customer-events"
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
  visibility_timeout_seconds        = 60
  receive_wait_time_seconds         = 10
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events.arn]
  })
}

data "aws_iam_policy_document" "events_tls_only" {
  for_each = { events = aws_sqs_queue.events.arn, dlq = aws_sqs_queue.events_dlq.arn }
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.events_tls_only["events"].json
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_tls_only["dlq"].json
}
