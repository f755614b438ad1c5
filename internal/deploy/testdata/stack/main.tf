# A stand-in for terraform/ made of built-in terraform_data resources (the
# AWS provider cannot be installed in tests). It takes the variables of the
# Terraform contract, keeps an S3 backend and yields the same outputs.
terraform {
  required_version = ">= 1.6"
  backend "s3" {}
}

variable "region" {
  type = string
  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))
    error_message = "region must look like us-east-1."
  }
}
variable "endpoint_url" {
  type    = string
  default = ""
}
variable "app_name" {
  type    = string
  default = "challenge-api"
}
variable "stage" {
  type    = string
  default = "prod"
}
variable "package_zip" { type = string }
variable "source_code_hash" { type = string }
variable "architecture" {
  type    = string
  default = "arm64"
}
variable "stage_rate_limit" { default = 100 }
variable "stage_burst_limit" { default = 50 }
variable "key_rate_limit" { default = 100 }
variable "key_burst_limit" { default = 50 }
variable "quota_limit" { default = 10000 }
variable "quota_period" { default = "MONTH" }

# The "function": new code updates it in place; a replace.txt written by a
# test replaces it (what the guard must catch). An imported function (id
# only) matches as long as there is no replace.txt.
resource "terraform_data" "function" {
  input            = [var.source_code_hash, var.architecture]
  triggers_replace = fileexists("${path.module}/replace.txt") ? file("${path.module}/replace.txt") : null
}

resource "terraform_data" "api" {
  triggers_replace = [var.app_name, var.stage]
}

resource "terraform_data" "usage_plan" {
  input = {
    stage_rate  = var.stage_rate_limit
    stage_burst = var.stage_burst_limit
    key_rate    = var.key_rate_limit
    key_burst   = var.key_burst_limit
    quota       = var.quota_limit
    period      = var.quota_period
  }
}

output "api_url" {
  value = "https://${substr(replace(terraform_data.api.id, "-", ""), 0, 10)}.execute-api.${var.region}.amazonaws.com/${var.stage}"
}
output "api_key" {
  value     = sha256("key-${terraform_data.api.id}")
  sensitive = true
}
output "function_name" { value = "${var.app_name}-${var.stage}" }
output "rest_api_id" { value = substr(replace(terraform_data.api.id, "-", ""), 0, 10) }
output "stage" { value = var.stage }
output "usage_plan_id" { value = substr(replace(terraform_data.usage_plan.id, "-", ""), 0, 6) }
