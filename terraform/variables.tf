# Every default here equals the CLI's: internal/limits.Default() for the
# limits and internal/naming for names. internal/tfconfig's tests parse this
# file and compare, so the two cannot drift apart.

variable "region" {
  description = "AWS region of every resource, e.g. us-east-1. Required: an empty region yields invalid ARNs."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))
    error_message = "The region must be a non-empty AWS region name such as us-east-1."
  }
}

variable "endpoint_url" {
  description = "Send every provider call to this endpoint (an emulator such as kumo or LocalStack). Empty means AWS."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.endpoint_url == "" || can(regex("^https?://[^/\\s]+", var.endpoint_url))
    error_message = "The endpoint_url must be empty or an http(s) URL such as http://127.0.0.1:4566."
  }
}

variable "app_name" {
  description = "Application name: prefix of the function, API and usage plan names."
  type        = string
  default     = "challenge-api"
  nullable    = false

  validation {
    # Letters, digits, '-' and '_' only: the name becomes part of Lambda,
    # IAM and log group names, which accept nothing else.
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.app_name))
    error_message = "The app_name must be 1-40 letters, digits, '-' or '_'."
  }
}

variable "stage" {
  description = "Deployment stage (API Gateway stage name); every name is per stage."
  type        = string
  default     = "prod"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage))
    error_message = "The stage must be 1-64 letters, digits, '-' or '_'."
  }
}

variable "package_zip" {
  description = "Path of the Lambda zip written by `challengectl build` (holds the bootstrap binary)."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.package_zip)) > 0
    error_message = "The package_zip must be the path of the Lambda zip; run `challengectl build`."
  }
}

variable "source_code_hash" {
  description = "Base64-encoded SHA-256 of package_zip: a new hash publishes a new Lambda version."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.source_code_hash))
    error_message = "The source_code_hash must be the base64 SHA-256 of the zip (44 characters ending in '=')."
  }
}

variable "architecture" {
  description = "Lambda CPU architecture of the bootstrap binary: arm64 or amd64 (x86_64)."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "amd64"], var.architecture)
    error_message = "The architecture must be arm64 or amd64."
  }
}

variable "stage_rate_limit" {
  description = "Stage-wide steady-state throttle, requests per second."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.stage_rate_limit > 0
    error_message = "The stage_rate_limit must be positive."
  }
}

variable "stage_burst_limit" {
  description = "Stage-wide burst (token bucket size), requests."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.stage_burst_limit > 0 && floor(var.stage_burst_limit) == var.stage_burst_limit
    error_message = "The stage_burst_limit must be a positive whole number."
  }
}

variable "key_rate_limit" {
  description = "Per-API-key steady-state throttle of the usage plan, requests per second."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.key_rate_limit > 0
    error_message = "The key_rate_limit must be positive."
  }
}

variable "key_burst_limit" {
  description = "Per-API-key burst of the usage plan, requests."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.key_burst_limit > 0 && floor(var.key_burst_limit) == var.key_burst_limit
    error_message = "The key_burst_limit must be a positive whole number."
  }
}

variable "quota_limit" {
  description = "Requests allowed per API key per quota_period."
  type        = number
  default     = 10000
  nullable    = false

  validation {
    condition     = var.quota_limit > 0 && floor(var.quota_limit) == var.quota_limit
    error_message = "The quota_limit must be a positive whole number."
  }
}

variable "quota_period" {
  description = "Quota period of the usage plan: DAY, WEEK or MONTH."
  type        = string
  default     = "MONTH"
  nullable    = false

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.quota_period)
    error_message = "The quota_period must be DAY, WEEK or MONTH."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 14
  nullable    = false

  validation {
    # The values CloudWatch Logs accepts (0 would mean "never expire", which
    # is not offered here on purpose).
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "lambda_timeout" {
  description = "Lambda timeout in seconds. API Gateway gives up after 29 s."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 29 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "The lambda_timeout must be a whole number of seconds from 1 to 29 (API Gateway's integration timeout)."
  }
}

variable "lambda_memory_mb" {
  description = "Lambda memory in MB (CPU scales with it)."
  type        = number
  default     = 128
  nullable    = false

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "The lambda_memory_mb must be a whole number from 128 to 10240."
  }
}
