# The AfterAllowTestTraffic lifecycle hook. CodeDeploy names ECS hooks in the AppSpec, so the release
# helper puts smoke_test_function_arn (an output) under Hooks; the CodeDeploy role may invoke only it.

data "archive_file" "smoke_test" {
  type        = "zip"
  source_file = "${path.module}/../lambda/smoke_test.py"
  output_path = "${path.module}/.build/smoke_test.zip"
}

resource "aws_cloudwatch_log_group" "smoke_test" {
  name              = "/aws/lambda/${local.name}-smoke-test"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "smoke_test" {
  #checkov:skip=CKV_AWS_116:CodeDeploy invokes the hook and times the lifecycle event out itself; a lost invocation fails and rolls back the deployment, there is nothing to replay from a DLQ.
  #checkov:skip=CKV_AWS_272:The function is built from this repository by Terraform; code signing would need a signing profile outside this stack.
  function_name                  = "${local.name}-smoke-test"
  description                    = "CodeDeploy AfterAllowTestTraffic hook: smoke-tests the replacement task set through the test listener"
  role                           = aws_iam_role.smoke_test.arn
  runtime                        = "python3.12"
  handler                        = "smoke_test.handler"
  filename                       = data.archive_file.smoke_test.output_path
  source_code_hash               = data.archive_file.smoke_test.output_base64sha256
  memory_size                    = 128
  reserved_concurrent_executions = var.smoke_test_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn
  # The whole smoke test is bounded by the per-request timeout times the number of requests (6), plus
  # the status report; the function timeout sits above that.
  timeout = var.smoke_test_timeout_seconds * 6 + 30

  environment {
    variables = {
      TEST_LISTENER_URL       = "http://${aws_lb.main.dns_name}:${local.test_listener_port}"
      REQUEST_TIMEOUT_SECONDS = tostring(var.smoke_test_timeout_seconds)
    }
  }

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.hook_lambda.id]
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_cloudwatch_log_group.smoke_test,
    aws_iam_role_policy.smoke_test,
    aws_iam_role_policy_attachment.smoke_test_vpc,
  ]
}
