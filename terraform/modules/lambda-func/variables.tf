variable "function_name" {
  description = "Lambda function name, per stage (e.g. challenge-api-prod)."
  type        = string
  nullable    = false

  validation {
    # The role name adds "-exec" and IAM allows 64 characters.
    condition     = can(regex("^[A-Za-z0-9_-]{1,59}$", var.function_name))
    error_message = "The function_name (app_name-stage) must be 1-59 letters, digits, '-' or '_'; shorten app_name or stage."
  }
}

variable "stage" {
  description = "Deployment stage, passed to the function as STAGE."
  type        = string
  nullable    = false
}

variable "package_zip" {
  description = "Path of the zip holding the bootstrap binary."
  type        = string
  nullable    = false
}

variable "source_code_hash" {
  description = "Base64 SHA-256 of package_zip."
  type        = string
  nullable    = false
}

variable "architecture" {
  description = "arm64 or amd64; amd64 maps to Lambda's x86_64."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "amd64"], var.architecture)
    error_message = "The architecture must be arm64 or amd64."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 10
}

variable "memory_mb" {
  description = "Memory in MB."
  type        = number
  default     = 128
}

variable "log_retention_days" {
  description = "Retention of /aws/lambda/<function_name>, in days."
  type        = number
  default     = 14
}

variable "environment" {
  description = "Extra environment variables of the function (STAGE is always set)."
  type        = map(string)
  default     = {}
  nullable    = false
}
