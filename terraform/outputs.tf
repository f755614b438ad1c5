output "api_url" {
  description = "Invoke URL of the stage: https://{id}.execute-api.{region}.amazonaws.com/{stage}."
  value       = module.apigw_rest.invoke_url
}

output "api_key" {
  description = "Value of the stage's API key (send it as x-api-key). Sensitive: challengectl masks it unless --show-secrets."
  value       = module.apigw_rest.api_key_value
  sensitive   = true
}

output "function_name" {
  description = "Name of the Lambda function (also its import ID)."
  value       = module.lambda_func.function_name
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = module.apigw_rest.rest_api_id
}

output "stage" {
  description = "API Gateway stage name."
  value       = module.apigw_rest.stage_name
}

output "usage_plan_id" {
  description = "ID of the usage plan that throttles and meters the API key."
  value       = module.apigw_rest.usage_plan_id
}
