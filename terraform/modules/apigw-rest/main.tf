resource "aws_api_gateway_rest_api" "this" {
  name           = var.api_name
  description    = "challengectl API, stage ${var.stage}"
  api_key_source = "HEADER"

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

# Routing: ANY / and ANY /{proxy+}, both behind the API key. The Lambda
# routes by path itself.
resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "root" {
  rest_api_id      = aws_api_gateway_rest_api.this.id
  resource_id      = aws_api_gateway_rest_api.this.root_resource_id
  http_method      = "ANY"
  authorization    = "NONE"
  api_key_required = true
}

resource "aws_api_gateway_method" "proxy" {
  rest_api_id      = aws_api_gateway_rest_api.this.id
  resource_id      = aws_api_gateway_resource.proxy.id
  http_method      = "ANY"
  authorization    = "NONE"
  api_key_required = true

  request_parameters = {
    "method.request.path.proxy" = true
  }
}

resource "aws_api_gateway_integration" "root" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.root.resource_id
  http_method             = aws_api_gateway_method.root.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST" # Lambda is always invoked with POST
  uri                     = var.lambda_invoke_arn
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.proxy.resource_id
  http_method             = aws_api_gateway_method.proxy.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = var.lambda_invoke_arn
}

# A deployment is a snapshot: editing a method does not change what a stage
# serves until a new deployment exists. The triggers hash the complete
# resource, method and integration objects (api_key_required, authorization,
# uri, ... included), so any routing change makes a new deployment, and
# create_before_destroy moves the stage onto it before the old one goes: an
# old snapshot never keeps serving requests without a key.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "challengectl ${var.stage}"

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.proxy,
      aws_api_gateway_method.root,
      aws_api_gateway_method.proxy,
      aws_api_gateway_integration.root,
      aws_api_gateway_integration.proxy,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.root,
    aws_api_gateway_integration.proxy,
  ]
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  deployment_id = aws_api_gateway_deployment.this.id
  stage_name    = var.stage
  description   = "challengectl stage ${var.stage}"
}

# Stage-wide throttle for every method: the first token bucket a request
# must pass, before the per-key bucket of the usage plan.
resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.stage_rate_limit
    throttling_burst_limit = var.stage_burst_limit
  }
}

resource "aws_api_gateway_usage_plan" "this" {
  name        = var.usage_plan_name
  description = "challengectl per-key throttle and quota, stage ${var.stage}"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = var.key_rate_limit
    burst_limit = var.key_burst_limit
  }

  quota_settings {
    limit  = var.quota_limit
    period = var.quota_period
  }
}

resource "aws_api_gateway_api_key" "this" {
  name        = "${var.api_name}-key"
  description = "challengectl API key, stage ${var.stage}"
  enabled     = true
}

# A key only works through a usage plan: this attaches it.
resource "aws_api_gateway_usage_plan_key" "this" {
  key_id        = aws_api_gateway_api_key.this.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}

# Lets this API, and only this API, invoke the live alias. The statement id
# carries the stage and a generated suffix, so two stages or a re-created
# permission never collide (the seed's 409 on AddPermission).
resource "aws_lambda_permission" "apigw_invoke" {
  statement_id_prefix = "AllowAPIGatewayInvoke-${var.stage}-"
  action              = "lambda:InvokeFunction"
  function_name       = var.lambda_function_name
  qualifier           = var.lambda_alias_name
  principal           = "apigateway.amazonaws.com"
  source_arn          = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}
