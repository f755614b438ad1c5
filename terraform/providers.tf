terraform {
  # 1.6 is the first release with the S3 backend settings deploy relies on
  # (endpoints block, use_path_style); OpenTofu 1.6+ satisfies it too.
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.26.0 is the first release whose runtime validation accepts
      # provided.al2023 (hashicorp/terraform-provider-aws#34360); older 5.x
      # fail the plan with "expected runtime to be one of [...]".
      version = "~> 5.26"
    }
  }
}

locals {
  # An emulator (kumo, LocalStack) is in use when endpoint_url is set.
  use_emulator = var.endpoint_url != ""
}

provider "aws" {
  # Always the validated variable, never an empty default: an empty region is
  # what produced "Invalid ARN" and execute-api..amazonaws.com in the seed.
  region = var.region

  # Emulators have no STS account, no instance metadata and no virtual-host
  # bucket DNS; against AWS all of these stay at their safe defaults.
  skip_credentials_validation = local.use_emulator
  skip_requesting_account_id  = local.use_emulator
  skip_metadata_api_check     = local.use_emulator
  s3_use_path_style           = local.use_emulator

  dynamic "endpoints" {
    for_each = local.use_emulator ? [var.endpoint_url] : []
    content {
      apigateway = endpoints.value
      dynamodb   = endpoints.value
      iam        = endpoints.value
      lambda     = endpoints.value
      logs       = endpoints.value
      s3         = endpoints.value
      sts        = endpoints.value
    }
  }

  default_tags {
    tags = {
      managed-by = "challengectl"
      app        = var.app_name
      stage      = var.stage
    }
  }
}
