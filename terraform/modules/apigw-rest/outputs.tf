output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "execution_arn" {
  description = "Execution ARN of the REST API."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "invoke_url" {
  description = "Invoke URL of the stage."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "stage_name" {
  description = "Stage name."
  value       = aws_api_gateway_stage.this.stage_name
}

output "usage_plan_id" {
  description = "ID of the usage plan."
  value       = aws_api_gateway_usage_plan.this.id
}

output "api_key_id" {
  description = "ID of the API key."
  value       = aws_api_gateway_api_key.this.id
}

output "api_key_value" {
  description = "Value of the API key."
  value       = aws_api_gateway_api_key.this.value
  sensitive   = true
}

output "lambda_permission_statement_id" {
  description = "Statement id of the invoke permission (import ID: <function>:<alias>/<statement id>)."
  value       = aws_lambda_permission.apigw_invoke.statement_id
}
