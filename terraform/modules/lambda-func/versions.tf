terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # provided.al2023 passes the provider's runtime validation from 5.26.0.
      version = ">= 5.26"
    }
  }
}
