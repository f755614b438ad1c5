variable "api_name" {
  description = "REST API name, per stage (e.g. challenge-api-prod)."
  type        = string
  nullable    = false
}

variable "usage_plan_name" {
  description = "Usage plan name, per stage (e.g. challenge-api-prod-plan)."
  type        = string
  nullable    = false
}

variable "stage" {
  description = "API Gateway stage name."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage))
    error_message = "The stage must be 1-64 letters, digits, '-' or '_'."
  }

  validation {
    # Lambda statement ids hold at most 100 characters:
    # "AllowAPIGatewayInvoke-" (22) + stage + "-" + Terraform's 26-character
    # unique suffix.
    condition     = length(var.stage) <= 51
    error_message = "The stage must be at most 51 characters: it is part of the Lambda permission's statement id (100 characters at most)."
  }
}

variable "lambda_function_name" {
  description = "Name of the function the API invokes."
  type        = string
  nullable    = false
}

variable "lambda_alias_name" {
  description = "Alias of the function the API invokes; the invoke permission is scoped to it."
  type        = string
  nullable    = false
}

variable "lambda_invoke_arn" {
  description = "Invoke ARN of that alias (AWS_PROXY integration URI)."
  type        = string
  nullable    = false
}

variable "stage_rate_limit" {
  description = "Stage-wide throttle, requests per second (method settings */*)."
  type        = number
}

variable "stage_burst_limit" {
  description = "Stage-wide burst, requests."
  type        = number
}

variable "key_rate_limit" {
  description = "Per-key throttle of the usage plan, requests per second."
  type        = number
}

variable "key_burst_limit" {
  description = "Per-key burst of the usage plan, requests."
  type        = number
}

variable "quota_limit" {
  description = "Requests per key per quota_period."
  type        = number
}

variable "quota_period" {
  description = "DAY, WEEK or MONTH."
  type        = string
}
