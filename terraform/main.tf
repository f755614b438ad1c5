locals {
  # Per-stage names, the same as internal/naming derives in Go: stages never
  # share a function, an API or a usage plan.
  function_name   = "${var.app_name}-${var.stage}"
  api_name        = "${var.app_name}-${var.stage}"
  usage_plan_name = "${var.app_name}-${var.stage}-plan"
}

module "lambda_func" {
  source = "./modules/lambda-func"

  function_name      = local.function_name
  stage              = var.stage
  package_zip        = var.package_zip
  source_code_hash   = var.source_code_hash
  architecture       = var.architecture
  timeout            = var.lambda_timeout
  memory_mb          = var.lambda_memory_mb
  log_retention_days = var.log_retention_days
}

module "apigw_rest" {
  source = "./modules/apigw-rest"

  api_name        = local.api_name
  usage_plan_name = local.usage_plan_name
  stage           = var.stage

  lambda_function_name = module.lambda_func.function_name
  lambda_alias_name    = module.lambda_func.alias_name
  lambda_invoke_arn    = module.lambda_func.alias_invoke_arn

  stage_rate_limit  = var.stage_rate_limit
  stage_burst_limit = var.stage_burst_limit
  key_rate_limit    = var.key_rate_limit
  key_burst_limit   = var.key_burst_limit
  quota_limit       = var.quota_limit
  quota_period      = var.quota_period
}
