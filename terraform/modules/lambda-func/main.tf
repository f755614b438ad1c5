locals {
  # Go's GOARCH names on the CLI side, Lambda's names here.
  lambda_architecture = var.architecture == "amd64" ? "x86_64" : "arm64"
  alias_name          = "live"
}

# Created before the function (depends_on below), so Lambda never creates an
# unmanaged group without retention on its first invocation.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-exec"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Least privilege: the function may write its own log streams and nothing
# else (no logs:CreateLogGroup, no wildcard over every log group).
resource "aws_iam_role_policy" "logs" {
  name = "write-own-log-group"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteOwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = [aws_cloudwatch_log_group.this.arn, "${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
    }]
  })
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  role          = aws_iam_role.this.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [local.lambda_architecture]

  filename         = var.package_zip
  source_code_hash = var.source_code_hash
  # Every code change publishes an immutable version; the alias moves to it.
  publish = true

  timeout     = var.timeout
  memory_size = var.memory_mb

  environment {
    variables = merge(var.environment, { STAGE = var.stage })
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.logs,
  ]
}

# API Gateway invokes the alias, never $LATEST: a request always reaches a
# published version.
resource "aws_lambda_alias" "live" {
  name             = local.alias_name
  description      = "Published version serving API Gateway"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}
