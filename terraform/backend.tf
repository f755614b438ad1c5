# Partial S3 backend: `challengectl deploy` supplies bucket, key (per stage),
# region, dynamodb_table and encrypt=true through -backend-config at init, so
# no account-specific name is ever committed and stages never share a state.
terraform {
  backend "s3" {}
}
