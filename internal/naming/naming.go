// Package naming derives every per-stage name from the app and stage, once,
// so the CLI, the Terraform variables and the tests agree. Stages never share
// a function, an API, a usage plan, a state key or a .terraform folder.
package naming

import "path"

// The defaults of --app and --stage. deploy and local fall back to them too,
// and terraform/'s app_name and stage variables must default to them
// (tfconfig checks it).
const (
	DefaultApp   = "challenge-api"
	DefaultStage = "prod"
)

// FunctionName is the Lambda function of one stage, e.g. challenge-api-prod.
func FunctionName(app, stage string) string { return app + "-" + stage }

// APIName is the REST API of one stage.
func APIName(app, stage string) string { return app + "-" + stage }

// UsagePlanName is the usage plan of one stage.
func UsagePlanName(app, stage string) string { return app + "-" + stage + "-plan" }

// StateKey is the default S3 key of one stage's Terraform state
// (TF_STATE_KEY or --key override it).
func StateKey(app, stage string) string { return path.Join(app, stage, "terraform.tfstate") }

// DataDirName is the TF_DATA_DIR of one stage, relative to the Terraform
// working directory: stages never share .terraform.
func DataDirName(stage string) string { return ".terraform-" + stage }
