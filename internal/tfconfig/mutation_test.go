package tfconfig

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	rootProviders = "providers.tf"
	rootVariables = "variables.tf"
	rootMain      = "main.tf"
	rootOutputs   = "outputs.tf"
	rootBackend   = "backend.tf"
	lambdaMain    = "modules/lambda-func/main.tf"
	lambdaOutputs = "modules/lambda-func/outputs.tf"
	apigwMain     = "modules/apigw-rest/main.tf"
	apigwOutputs  = "modules/apigw-rest/outputs.tf"
)

// mutations each break one invariant of the real tree in a copy; the
// checker must then report that rule. Every rule has at least one, so no
// rule can silently stop checking.
var mutations = []struct {
	name, rule, file, old, new string
}{
	{"backend local", "backend-s3-partial", rootBackend, `backend "s3" {}`, `backend "local" {}`},
	{"backend with settings", "backend-s3-partial", rootBackend, `backend "s3" {}`, "backend \"s3\" {\n    bucket = \"x\"\n  }"},
	{"no backend", "backend-s3-partial", rootBackend, `backend "s3" {}`, ``},
	{"old terraform allowed", "required-version", rootProviders, `required_version = ">= 1.6.0"`, `required_version = ">= 1.5.0"`},
	{"no required_version", "required-version", rootProviders, `required_version = ">= 1.6.0"`, ``},
	{"aws provider 6 allowed", "aws-provider-version", rootProviders, `version = "~> 5.26"`, `version = ">= 5.0"`},
	{"aws provider version not a string", "aws-provider-version", rootProviders, `version = "~> 5.26"`, `version = 5`},
	{"aws provider 4", "aws-provider-version", rootProviders, `version = "~> 5.26"`, `version = "~> 4.0"`},
	{"aws provider without provided.al2023", "aws-provider-version", rootProviders, `version = "~> 5.26"`, `version = "~> 5.0"`},
	{"region from a lookup", "provider-region", rootProviders, `region = var.region`, `region = data.aws_region.current.name`},
	{"data aws_region in a module", "provider-region", lambdaMain, `data "aws_iam_policy_document" "assume" {`, "data \"aws_region\" \"current\" {}\n\ndata \"aws_iam_policy_document\" \"assume\" {"},
	{"tag value constant", "provider-default-tags", rootProviders, `stage      = var.stage`, `stage      = "prod"`},
	{"no managed-by tag", "provider-default-tags", rootProviders, `managed-by = "challengectl"`, ``},
	{"endpoints always on", "provider-endpoints", rootProviders, `for_each = local.use_emulator ? [var.endpoint_url] : []`, `for_each = [var.endpoint_url]`},
	{"no logs endpoint", "provider-endpoints", rootProviders, `logs       = endpoints.value`, ``},
	{"path style always on", "provider-endpoints", rootProviders, `s3_use_path_style           = local.use_emulator`, `s3_use_path_style           = true`},
	{"region has a default", "root-variables", rootVariables, "variable \"region\" {\n", "variable \"region\" {\n  default = \"us-east-1\"\n"},
	{"limit typed as string", "root-variables", rootVariables, "variable \"quota_limit\" {\n  description = \"Requests allowed per API key per quota_period.\"\n  type        = number", "variable \"quota_limit\" {\n  description = \"Requests allowed per API key per quota_period.\"\n  type        = string"},
	{"region accepts anything", "variable-validations", rootVariables, `can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))`, `can(regex(".*", var.region))`},
	{"region validation removed", "variable-validations", rootVariables, "  validation {\n    condition     = can(regex(\"^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$\", var.region))\n    error_message = \"The region must be a non-empty AWS region name such as us-east-1.\"\n  }", ""},
	{"limit accepts zero", "variable-validations", rootVariables, `condition     = var.key_rate_limit > 0`, `condition     = var.key_rate_limit >= 0`},
	{"period accepts YEAR", "variable-validations", rootVariables, `contains(["DAY", "WEEK", "MONTH"], var.quota_period)`, `contains(["DAY", "WEEK", "MONTH", "YEAR"], var.quota_period)`},
	{"arch accepts x86_64", "variable-validations", rootVariables, `contains(["arm64", "amd64"], var.architecture)`, `contains(["arm64", "amd64", "x86_64"], var.architecture)`},
	{"api_key not sensitive", "root-outputs", rootOutputs, "  value       = module.apigw_rest.api_key_value\n  sensitive   = true", "  value       = module.apigw_rest.api_key_value\n  sensitive   = false"},
	{"api_url from the wrong place", "root-outputs", rootOutputs, `value       = module.apigw_rest.invoke_url`, `value       = module.apigw_rest.rest_api_id`},
	{"no usage_plan_id output", "root-outputs", rootOutputs, `output "usage_plan_id" {`, `output "plan_id" {`},
	{"key leaked by another output", "root-outputs", rootOutputs, `value       = module.apigw_rest.stage_name`, `value       = "${module.apigw_rest.stage_name}-${module.apigw_rest.api_key_value}"`},
	{"function name not per stage", "per-stage-names", rootMain, `function_name   = "${var.app_name}-${var.stage}"`, `function_name   = var.app_name`},
	{"plan name differs from naming", "per-stage-names", rootMain, `usage_plan_name = "${var.app_name}-${var.stage}-plan"`, `usage_plan_name = "${var.stage}-${var.app_name}-plan"`},
	{"app default differs from CLI", "per-stage-names", rootVariables, `default     = "challenge-api"`, `default     = "my-api"`},
	{"limits swapped", "module-wiring", rootMain, `key_rate_limit    = var.key_rate_limit`, `key_rate_limit    = var.stage_rate_limit`},
	{"constant quota", "module-wiring", rootMain, `quota_limit       = var.quota_limit`, `quota_limit       = 10000`},
	{"module renamed", "module-wiring", rootMain, `module "lambda_func" {`, `module "lambda" {`},
	{"unused variable", "module-wiring", rootVariables, `variable "lambda_timeout" {`, "variable \"unused\" {\n  type = string\n  default = \"\"\n}\n\nvariable \"lambda_timeout\" {"},
	{"function renamed", "guarded-addresses", lambdaMain, `resource "aws_lambda_function" "this" {`, `resource "aws_lambda_function" "fn" {`},
	{"permission renamed", "guarded-addresses", apigwMain, `resource "aws_lambda_permission" "apigw_invoke" {`, `resource "aws_lambda_permission" "allow_apigw" {`},
	{"python runtime", "lambda-runtime", lambdaMain, `runtime       = "provided.al2023"`, `runtime       = "python3.12"`},
	{"handler", "lambda-runtime", lambdaMain, `handler       = "bootstrap"`, `handler       = "main.handler"`},
	{"not published", "lambda-runtime", lambdaMain, `publish = true`, `publish = false`},
	{"amd64 not mapped", "lambda-architecture", lambdaMain, `var.architecture == "amd64" ? "x86_64" : "arm64"`, `var.architecture`},
	{"architecture fixed", "lambda-architecture", lambdaMain, `architectures = [local.lambda_architecture]`, `architectures = ["arm64"]`},
	{"no source hash", "lambda-package", lambdaMain, `source_code_hash = var.source_code_hash`, `source_code_hash = filebase64sha256("x.zip")`},
	{"architectures not a list", "lambda-architecture", lambdaMain, `architectures = [local.lambda_architecture]`, `architectures = local.lambda_architecture`},
	{"alias not live", "lambda-alias", lambdaMain, `alias_name          = "live"`, `alias_name          = "current"`},
	{"alias on $LATEST", "lambda-alias", lambdaMain, `function_version = aws_lambda_function.this.version`, `function_version = "$LATEST"`},
	{"environment without STAGE", "lambda-environment", lambdaMain, `variables = merge(var.environment, { STAGE = var.stage })`, `variables = var.environment`},
	{"no STAGE", "lambda-environment", lambdaMain, `{ STAGE = var.stage }`, `{ ENV = var.stage }`},
	{"log group wrong name", "log-group", lambdaMain, `name              = "/aws/lambda/${var.function_name}"`, `name              = "/lambda/${var.function_name}"`},
	{"no retention", "log-group", lambdaMain, `retention_in_days = var.log_retention_days`, ``},
	{"function before group", "log-group", lambdaMain, "    aws_cloudwatch_log_group.this,\n    aws_iam_role_policy.logs,", "    aws_iam_role_policy.logs,"},
	{"wildcard resource", "iam-least-privilege", lambdaMain, `Resource = [aws_cloudwatch_log_group.this.arn, "${aws_cloudwatch_log_group.this.arn}:log-stream:*"]`, `Resource = "*"`},
	{"every log group", "iam-least-privilege", lambdaMain, `Resource = [aws_cloudwatch_log_group.this.arn, "${aws_cloudwatch_log_group.this.arn}:log-stream:*"]`, `Resource = ["arn:aws:logs:*:*:log-group:*"]`},
	{"logs:*", "iam-least-privilege", lambdaMain, `Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]`, `Action   = ["logs:*"]`},
	{"managed policy", "iam-least-privilege", lambdaMain, `resource "aws_lambda_function" "this" {`, "resource \"aws_iam_role_policy_attachment\" \"basic\" {\n  role       = aws_iam_role.this.name\n  policy_arn = \"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\"\n}\n\nresource \"aws_lambda_function\" \"this\" {"},
	{"edge API", "apigw-regional", apigwMain, `types = ["REGIONAL"]`, `types = ["EDGE"]`},
	{"root without key", "apigw-key-required", apigwMain, "  http_method      = \"ANY\"\n  authorization    = \"NONE\"\n  api_key_required = true\n}", "  http_method      = \"ANY\"\n  authorization    = \"NONE\"\n  api_key_required = false\n}"},
	{"proxy without key", "apigw-key-required", apigwMain, "  api_key_required = true\n\n  request_parameters", "  api_key_required = false\n\n  request_parameters"},
	{"key from a variable", "apigw-key-required", apigwMain, "  api_key_required = true\n\n  request_parameters", "  api_key_required = var.stage != \"\"\n\n  request_parameters"},
	{"no ANY /", "apigw-routes", apigwMain, "  resource_id      = aws_api_gateway_rest_api.this.root_resource_id\n  http_method      = \"ANY\"", "  resource_id      = aws_api_gateway_rest_api.this.root_resource_id\n  http_method      = \"GET\""},
	{"no proxy+", "apigw-routes", apigwMain, `path_part   = "{proxy+}"`, `path_part   = "{proxy}"`},
	{"plain AWS integration", "apigw-integrations", apigwMain, "  type                    = \"AWS_PROXY\"\n  integration_http_method = \"POST\" # Lambda", "  type                    = \"AWS\"\n  integration_http_method = \"POST\" # Lambda"},
	{"GET integration", "apigw-integrations", apigwMain, "  type                    = \"AWS_PROXY\"\n  integration_http_method = \"POST\"\n  uri", "  type                    = \"AWS_PROXY\"\n  integration_http_method = \"GET\"\n  uri"},
	{"integration to $LATEST", "apigw-integrations", rootMain, `lambda_invoke_arn    = module.lambda_func.alias_invoke_arn`, `lambda_invoke_arn    = module.lambda_func.function_arn`},
	{"trigger misses a method", "apigw-deployment", apigwMain, "      aws_api_gateway_method.root,\n", ""},
	{"trigger by id only", "apigw-deployment", apigwMain, "      aws_api_gateway_method.proxy,\n", "      aws_api_gateway_method.proxy.id,\n"},
	{"no create_before_destroy", "apigw-deployment", apigwMain, `create_before_destroy = true`, `create_before_destroy = false`},
	{"no triggers", "apigw-deployment", apigwMain, "  triggers = {", "  triggers_off = {"},
	{"implicit stage", "apigw-stage", apigwMain, "  rest_api_id = aws_api_gateway_rest_api.this.id\n  description = \"challengectl ${var.stage}\"", "  rest_api_id = aws_api_gateway_rest_api.this.id\n  stage_name  = var.stage\n  description = \"challengectl ${var.stage}\""},
	{"stage name constant", "apigw-stage", apigwMain, `stage_name    = var.stage`, `stage_name    = "prod"`},
	{"settings not */*", "apigw-method-settings", apigwMain, `method_path = "*/*"`, `method_path = "{proxy+}/GET"`},
	{"settings burst from key", "apigw-method-settings", apigwMain, `throttling_burst_limit = var.stage_burst_limit`, `throttling_burst_limit = var.key_burst_limit`},
	{"no quota", "apigw-usage-plan", apigwMain, "  quota_settings {\n    limit  = var.quota_limit\n    period = var.quota_period\n  }", ""},
	{"no throttle", "apigw-usage-plan", apigwMain, "  throttle_settings {\n    rate_limit  = var.key_rate_limit\n    burst_limit = var.key_burst_limit\n  }", ""},
	{"plan without stage", "apigw-usage-plan", apigwMain, "    stage  = aws_api_gateway_stage.this.stage_name\n", "    stage  = var.stage\n"},
	{"key not attached", "apigw-api-key", apigwMain, `resource "aws_api_gateway_usage_plan_key" "this" {`, `resource "aws_api_gateway_usage_plan_key" "this" {` + "\n  count = 0"},
	{"key attachment removed", "apigw-api-key", apigwMain, `key_id        = aws_api_gateway_api_key.this.id`, `key_id        = "abc"`},
	{"permission for any API", "lambda-permission", apigwMain, `source_arn          = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"`, `source_arn          = "arn:aws:execute-api:*:*:*"`},
	{"permission unscoped", "lambda-permission", apigwMain, `source_arn          = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"`, ``},
	{"permission on $LATEST", "lambda-permission", apigwMain, `qualifier           = var.lambda_alias_name`, ``},
	{"fixed statement id", "permission-statement-id", apigwMain, `statement_id_prefix = "AllowAPIGatewayInvoke-${var.stage}-"`, `statement_id        = "AllowAPIGatewayInvoke"`},
	{"prefix without stage", "permission-statement-id", apigwMain, `statement_id_prefix = "AllowAPIGatewayInvoke-${var.stage}-"`, `statement_id_prefix = "AllowAPIGatewayInvoke-"`},
}

func TestMutationsAreCaught(t *testing.T) {
	src := treeDir(t)
	for _, m := range mutations {
		t.Run(m.rule+"/"+m.name, func(t *testing.T) {
			dir := copyTree(t, src)
			mutate(t, filepath.Join(dir, filepath.FromSlash(m.file)), m.old, m.new)
			vs, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, v := range vs {
				if v.Rule == m.rule {
					found = true
					if v.Pos.Filename == "" || v.Message == "" {
						t.Errorf("violation without position or message: %+v", v)
					}
				}
			}
			if !found {
				t.Fatalf("rule %s not reported; got %v", m.rule, vs)
			}
		})
	}
}

// TestEveryRuleHasAMutation keeps TestMutationsAreCaught complete: a new
// rule without a mutation could be a rule that never fires.
func TestEveryRuleHasAMutation(t *testing.T) {
	covered := map[string]bool{}
	for _, m := range mutations {
		covered[m.rule] = true
	}
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
		if !covered[r.ID] {
			t.Errorf("rule %s has no mutation", r.ID)
		}
		if r.Description == "" {
			t.Errorf("rule %s has no description", r.ID)
		}
	}
	var unknown []string
	for r := range covered {
		if !known[r] {
			unknown = append(unknown, r)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("mutations name unknown rules: %s", strings.Join(unknown, ", "))
	}
}

// TestViolationPointsAtTheLine checks that a report leads to the edit:
// the file and line of the flipped api_key_required.
func TestViolationPointsAtTheLine(t *testing.T) {
	dir := copyTree(t, treeDir(t))
	path := filepath.Join(dir, "modules", "apigw-rest", "main.tf")
	mutate(t, path, "  api_key_required = true\n\n  request_parameters", "  api_key_required = false\n\n  request_parameters")
	vs, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("want exactly one violation, got %v", vs)
	}
	v := vs[0]
	if v.Rule != "apigw-key-required" || v.Pos.Filename != "modules/apigw-rest/main.tf" || !strings.Contains(v.Message, "aws_api_gateway_method.proxy") {
		t.Fatalf("violation %s", v)
	}
	line := lineOf(t, path, "api_key_required = false")
	if v.Pos.Line != line {
		t.Fatalf("violation at line %d, the edit is at line %d", v.Pos.Line, line)
	}
}

// lineOf returns the 1-based line of the first occurrence of text in a file.
func lineOf(t testing.TB, path, text string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), text)
	if i < 0 {
		t.Fatalf("%q not in %s", text, path)
	}
	return strings.Count(string(b[:i]), "\n") + 1
}

// TestRemovingAnyBlockNeverCrashesTheChecker deletes each top-level block of
// the tree in turn: Check must still answer with violations, never an
// internal error, whatever is missing.
func TestRemovingAnyBlockNeverCrashesTheChecker(t *testing.T) {
	src := treeDir(t)
	m, err := loadTree(src)
	if err != nil {
		t.Fatal(err)
	}
	var mods []*module
	var walk func(*module)
	walk = func(x *module) {
		mods = append(mods, x)
		for _, name := range sortedKeys(x.calls) {
			walk(x.calls[name])
		}
	}
	walk(m)
	removed := 0
	for _, mod := range mods {
		for _, b := range mod.blocks {
			rng := b.Range()
			rel := filepath.Join(mod.rel, filepath.Base(rng.Filename))
			dir := copyTree(t, src)
			path := filepath.Join(dir, rel)
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cut := append(append([]byte{}, body[:rng.Start.Byte]...), body[rng.End.Byte:]...)
			if err := os.WriteFile(path, cut, 0o644); err != nil {
				t.Fatal(err)
			}
			vs, err := Check(dir)
			if err != nil {
				t.Errorf("%s without %s: %v", rel, blockName(b), err)
				continue
			}
			for _, v := range vs {
				if strings.Contains(v.Message, "cannot check this configuration") {
					t.Errorf("%s without %s: %s", rel, blockName(b), v)
				}
			}
			removed++
		}
	}
	if removed < 40 {
		t.Fatalf("only %d blocks removed; the walk missed files", removed)
	}
}
