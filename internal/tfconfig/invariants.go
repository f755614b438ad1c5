package tfconfig

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/challengectl/challengectl/internal/naming"
)

// Addresses of the resources deploy guards and imports. They are part of
// the contract between terraform/ and the deploy driver; Check verifies the
// tree declares them.
const (
	FunctionAddress   = "module.lambda_func.aws_lambda_function.this"
	RestAPIAddress    = "module.apigw_rest.aws_api_gateway_rest_api.this"
	PermissionAddress = "module.apigw_rest.aws_lambda_permission.apigw_invoke"
)

// Violation is one broken invariant, with where to look.
type Violation struct {
	Rule    string `json:"rule"`
	Pos     Pos    `json:"pos"`
	Message string `json:"message"`
}

func (v Violation) String() string { return fmt.Sprintf("%s: [%s] %s", v.Pos, v.Rule, v.Message) }

// Rule names one invariant of challengectl's terraform/ tree.
type Rule struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// rules lists every invariant Check enforces, in the order it runs them.
var rules = []struct {
	Rule
	check func(*checker)
}{
	{Rule{"backend-s3-partial", `the root declares backend "s3" {} with no settings (deploy passes them at init)`}, (*checker).backend},
	{Rule{"required-version", "required_version admits no Terraform older than 1.6.0"}, (*checker).requiredVersion},
	{Rule{"aws-provider-version", "required_providers pins hashicorp/aws to 5.x, 5.26 or later"}, (*checker).providerVersion},
	{Rule{"provider-region", "the AWS provider's region is var.region, and no module looks the region up (data aws_region)"}, (*checker).providerRegion},
	{Rule{"provider-default-tags", "default_tags carry managed-by=challengectl, app and stage"}, (*checker).defaultTags},
	{Rule{"provider-endpoints", "endpoint_url, when set, sends apigateway, lambda, iam, sts, logs, s3 and dynamodb to the emulator with its switches"}, (*checker).endpoints},
	{Rule{"root-variables", "the root declares the contract's variables; region has no default"}, (*checker).rootVariables},
	{Rule{"variable-validations", "validations reject bad regions, stages, architectures, quota periods and non-positive limits, and accept good ones"}, (*checker).validations},
	{Rule{"root-outputs", "outputs api_url, api_key (sensitive), function_name, rest_api_id, stage, usage_plan_id come from the right resources"}, (*checker).outputs},
	{Rule{"per-stage-names", "function, API and usage plan names equal internal/naming's for any app and stage"}, (*checker).names},
	{Rule{"module-wiring", "modules lambda_func and apigw_rest receive the root variables they implement; every root variable is used"}, (*checker).wiring},
	{Rule{"guarded-addresses", "the function, REST API and permission live at the addresses deploy guards and imports"}, (*checker).guarded},
	{Rule{"lambda-runtime", "runtime provided.al2023, handler bootstrap, publish = true"}, (*checker).lambdaRuntime},
	{Rule{"lambda-architecture", "architectures follow var.architecture, amd64 mapped to x86_64"}, (*checker).lambdaArchitecture},
	{Rule{"lambda-package", "filename and source_code_hash come from the package variables"}, (*checker).lambdaPackage},
	{Rule{"lambda-alias", "an alias named live points at the published version"}, (*checker).lambdaAlias},
	{Rule{"lambda-environment", "the function's environment carries STAGE"}, (*checker).lambdaEnvironment},
	{Rule{"log-group", "/aws/lambda/<function> exists with a retention before the function"}, (*checker).logGroup},
	{Rule{"iam-least-privilege", "the execution role may only create streams and put events in its own log group"}, (*checker).iam},
	{Rule{"apigw-regional", "the REST API is REGIONAL"}, (*checker).regional},
	{Rule{"apigw-key-required", "every method requires an API key"}, (*checker).keyRequired},
	{Rule{"apigw-routes", "ANY / and ANY /{proxy+} both exist"}, (*checker).routes},
	{Rule{"apigw-integrations", "every method has an AWS_PROXY POST integration to the live alias"}, (*checker).integrations},
	{Rule{"apigw-deployment", "the deployment's triggers cover every resource, method and integration, with create_before_destroy"}, (*checker).deployment},
	{Rule{"apigw-stage", "an explicit stage named var.stage serves the deployment"}, (*checker).stage},
	{Rule{"apigw-method-settings", "method settings */* throttle the stage with the stage limits"}, (*checker).methodSettings},
	{Rule{"apigw-usage-plan", "the usage plan references the stage and sets per-key throttle and quota"}, (*checker).usagePlan},
	{Rule{"apigw-api-key", "the API key is attached to the usage plan through a usage plan key"}, (*checker).apiKey},
	{Rule{"lambda-permission", "the invoke permission is for apigateway.amazonaws.com on the live alias, scoped to this API's execution ARN"}, (*checker).permission},
	{Rule{"permission-statement-id", "the permission's statement id is generated from a per-stage prefix, so it never collides"}, (*checker).statementID},
}

// Rules returns the invariants Check enforces.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Rule
	}
	return out
}

// Check parses challengectl's Terraform tree at dir (the root module and its
// local modules) and returns every invariant it breaks, sorted by file and
// line; none means the tree is sound. The error reports a tree that cannot
// be read or parsed.
func Check(dir string) ([]Violation, error) {
	root, err := loadTree(dir)
	if err != nil {
		return nil, err
	}
	c := &checker{root: root, lambda: root.calls["lambda_func"], apigw: root.calls["apigw_rest"]}
	for _, r := range rules {
		c.run(r.ID, r.check)
	}
	sort.SliceStable(c.out, func(i, j int) bool {
		a, b := c.out[i].Pos, c.out[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Line < b.Line
	})
	return c.out, nil
}

// run runs one rule; a rule that panics on an unexpected shape of
// configuration reports that as its violation instead of crashing the CLI.
func (c *checker) run(id string, check func(*checker)) {
	c.rule = id
	defer func() {
		if p := recover(); p != nil {
			c.fail(c.root, hcl.Range{}, "cannot check this configuration: %v", p)
		}
	}()
	check(c)
}

type checker struct {
	root, lambda, apigw *module
	rule                string
	out                 []Violation
}

// fail records a violation of the current rule at r in module m.
func (c *checker) fail(m *module, r hcl.Range, format string, args ...any) {
	pos := Pos{Filename: m.rel, Line: 0}
	if r.Filename != "" {
		pos = m.pos(r)
	}
	if pos.Filename == "" {
		pos.Filename = "."
	}
	c.out = append(c.out, Violation{Rule: c.rule, Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// blockRange is where to point for a block, or the module when it is missing.
func blockRange(b *hclsyntax.Block) hcl.Range {
	if b == nil {
		return hcl.Range{}
	}
	return b.DefRange()
}

func attrRange(a *hclsyntax.Attribute, b *hclsyntax.Block) hcl.Range {
	if a != nil {
		return a.SrcRange
	}
	return blockRange(b)
}

// need returns the resource or records that it is missing.
func (c *checker) need(m *module, typ, name string) *hclsyntax.Block {
	if m == nil {
		return nil
	}
	b := m.resource(typ, name)
	if b == nil {
		c.fail(m, hcl.Range{}, "resource %s.%s is missing", typ, name)
	}
	return b
}

// needModule records a missing module call once per rule.
func (c *checker) needModule(m *module, call string) bool {
	if m == nil {
		c.fail(c.root, hcl.Range{}, "module %q (a local module) is not called from the root", call)
		return false
	}
	return true
}

// wantString checks that an attribute is the constant want.
func (c *checker) wantString(m *module, b *hclsyntax.Block, name, want string) {
	a := attr(b, name)
	if got, ok := literalString(a); !ok || got != want {
		c.fail(m, attrRange(a, b), "%s.%s must be %q, got %s", blockName(b), name, want, exprText(m, a))
	}
}

// wantRef checks that an attribute references target.
func (c *checker) wantRef(m *module, b *hclsyntax.Block, name, target string) {
	a := attr(b, name)
	if a == nil || !m.refersTo(a.Expr, target) {
		c.fail(m, attrRange(a, b), "%s.%s must reference %s, got %s", blockName(b), name, target, exprText(m, a))
	}
}

func blockName(b *hclsyntax.Block) string {
	if b == nil {
		return "?"
	}
	if b.Type == "resource" || b.Type == "data" {
		return strings.Join(b.Labels, ".")
	}
	return strings.TrimSpace(b.Type + " " + strings.Join(b.Labels, "."))
}

// exprText is the source text of an attribute's expression, for messages.
func exprText(m *module, a *hclsyntax.Attribute) string {
	if a == nil {
		return "nothing (not set)"
	}
	r := a.Expr.Range()
	for name, f := range m.files {
		if strings.HasSuffix(r.Filename, name) && r.End.Byte <= len(f.Bytes) {
			text := string(f.Bytes[r.Start.Byte:r.End.Byte])
			if len(text) > 120 {
				text = text[:120] + "…"
			}
			return text
		}
	}
	return "an expression"
}

func (c *checker) backend() {
	var found *hclsyntax.Block
	for _, tb := range c.root.blocksOf("terraform") {
		for _, b := range childBlocks(tb, "backend") {
			if len(b.Labels) == 1 && b.Labels[0] != "s3" {
				c.fail(c.root, b.DefRange(), "backend %q: state must live in S3 with DynamoDB locking", b.Labels[0])
			}
			if len(b.Labels) == 1 && b.Labels[0] == "s3" {
				found = b
			}
		}
	}
	if found == nil {
		c.fail(c.root, hcl.Range{}, `no backend "s3" {} block: state would stay on the runner's disk`)
		return
	}
	if len(found.Body.Attributes) > 0 || len(found.Body.Blocks) > 0 {
		c.fail(c.root, found.DefRange(), `backend "s3" must be empty (a partial configuration); deploy passes bucket, key, region and table at init, per stage`)
	}
}

func (c *checker) requiredVersion() {
	var constraints []string
	var at hcl.Range
	for _, tb := range c.root.blocksOf("terraform") {
		if a := attr(tb, "required_version"); a != nil {
			s, ok := literalString(a)
			if !ok {
				c.fail(c.root, a.SrcRange, "required_version must be a constant string")
				continue
			}
			constraints = append(constraints, s)
			at = a.SrcRange
		}
	}
	if len(constraints) == 0 {
		c.fail(c.root, hcl.Range{}, "no required_version: Terraform older than 1.6 would run and misread the S3 backend settings")
		return
	}
	cs, err := version.NewConstraint(strings.Join(constraints, ","))
	if err != nil {
		c.fail(c.root, at, "required_version %q: %v", strings.Join(constraints, ","), err)
		return
	}
	// A constraint admits "≥ 1.6" when it rejects the last 1.5 releases and
	// accepts the first 1.6.
	for _, old := range []string{"1.5.7", "1.5.0", "1.0.0", "0.15.5"} {
		if cs.Check(version.Must(version.NewVersion(old))) {
			c.fail(c.root, at, "required_version %q admits Terraform %s; it must require >= 1.6.0", cs, old)
		}
	}
	if !cs.Check(version.Must(version.NewVersion("1.6.0"))) {
		c.fail(c.root, at, "required_version %q rejects Terraform 1.6.0", cs)
	}
}

func (c *checker) providerVersion() {
	for _, tb := range c.root.blocksOf("terraform") {
		for _, rp := range childBlocks(tb, "required_providers") {
			a := rp.Body.Attributes["aws"]
			if a == nil {
				continue
			}
			v, err := newEvaluator(c.root, nil).eval(a.Expr)
			if err != nil || !v.Type().IsObjectType() || !v.Type().HasAttribute("source") || !v.Type().HasAttribute("version") {
				c.fail(c.root, a.SrcRange, "required_providers.aws must be { source = \"hashicorp/aws\", version = \"~> 5.26\" }")
				return
			}
			if src := v.GetAttr("source"); src.Type() != cty.String || !src.IsKnown() || src.IsNull() || src.AsString() != "hashicorp/aws" {
				c.fail(c.root, a.SrcRange, "required_providers.aws.source must be hashicorp/aws")
			}
			ver := v.GetAttr("version")
			if ver.Type() != cty.String || !ver.IsKnown() || ver.IsNull() {
				c.fail(c.root, a.SrcRange, "required_providers.aws.version must be a constant string")
				return
			}
			cs, err := version.NewConstraint(ver.AsString())
			if err != nil {
				c.fail(c.root, a.SrcRange, "required_providers.aws.version: %v", err)
				return
			}
			// 5.25.0 is the last release whose aws_lambda_function runtime
			// validation rejects provided.al2023.
			for _, bad := range []string{"4.67.0", "5.0.0", "5.25.0", "6.0.0"} {
				if cs.Check(version.Must(version.NewVersion(bad))) {
					c.fail(c.root, a.SrcRange, "required_providers.aws.version %q admits %s; pin 5.26 or a later 5.x (~> 5.26)", cs, bad)
				}
			}
			if !cs.Check(version.Must(version.NewVersion("5.100.0"))) {
				c.fail(c.root, a.SrcRange, "required_providers.aws.version %q rejects the latest 5.x", cs)
			}
			return
		}
	}
	c.fail(c.root, hcl.Range{}, "required_providers has no aws entry")
}

// awsProvider returns the default (unaliased) AWS provider block.
func (c *checker) awsProvider() *hclsyntax.Block {
	for _, b := range c.root.blocksOf("provider") {
		if b.Labels[0] == "aws" && attr(b, "alias") == nil {
			return b
		}
	}
	return nil
}

func (c *checker) providerRegion() {
	p := c.awsProvider()
	if p == nil {
		c.fail(c.root, hcl.Range{}, `no provider "aws" block`)
	} else {
		a := attr(p, "region")
		if a == nil || !equalStrings(refs(a.Expr), []string{"var.region"}) {
			c.fail(c.root, attrRange(a, p), "provider aws: region must be exactly var.region (validated, never empty), got %s", exprText(c.root, a))
		}
	}
	for _, m := range []*module{c.root, c.lambda, c.apigw} {
		if m == nil {
			continue
		}
		for _, b := range m.blocksOf("data") {
			if b.Labels[0] == "aws_region" {
				c.fail(m, b.DefRange(), "data aws_region: take the region from the validated variable, a lookup can yield an empty region and an invalid ARN")
			}
		}
	}
}

func (c *checker) defaultTags() {
	p := c.awsProvider()
	if p == nil {
		return // reported by provider-region
	}
	dt := childBlock(p, "default_tags")
	a := attr(dt, "tags")
	if a == nil {
		c.fail(c.root, blockRange(p), "provider aws has no default_tags { tags = ... }")
		return
	}
	v, err := newEvaluator(c.root, map[string]cty.Value{"app_name": cty.StringVal("APP"), "stage": cty.StringVal("STAGE")}).eval(a.Expr)
	tags, ok := asMap(v)
	if err != nil || !ok {
		c.fail(c.root, a.SrcRange, "default_tags.tags must be a map: %v", err)
		return
	}
	want := map[string]string{"managed-by": "challengectl", "app": "APP", "stage": "STAGE"}
	got := map[string]string{}
	for k, val := range tags {
		if val.Type() == cty.String && val.IsKnown() {
			got[k] = val.AsString()
		}
	}
	for k, w := range want {
		if got[k] != w {
			c.fail(c.root, a.SrcRange, "default_tags.tags[%q] must be %s, got %q", k, map[string]string{"managed-by": `"challengectl"`, "app": "var.app_name", "stage": "var.stage"}[k], got[k])
		}
	}
}

// emulatorServices are the endpoints the provider must redirect when
// endpoint_url is set: every service the tree creates resources in.
var emulatorServices = []string{"apigateway", "dynamodb", "iam", "lambda", "logs", "s3", "sts"}

func (c *checker) endpoints() {
	p := c.awsProvider()
	if p == nil {
		return
	}
	var dyn *hclsyntax.Block
	for _, b := range childBlocks(p, "dynamic") {
		if len(b.Labels) == 1 && b.Labels[0] == "endpoints" {
			dyn = b
		}
	}
	if dyn == nil {
		c.fail(c.root, p.DefRange(), `provider aws needs a dynamic "endpoints" block driven by var.endpoint_url (a static block would redirect AWS calls too)`)
	} else {
		fe := attr(dyn, "for_each")
		if fe == nil || !c.root.refersTo(fe.Expr, "var.endpoint_url") {
			c.fail(c.root, attrRange(fe, dyn), `dynamic "endpoints": for_each must depend on var.endpoint_url`)
		} else {
			// Empty endpoint_url: no block at all; set: exactly one block.
			for _, tc := range []struct {
				url  string
				want int
			}{{"", 0}, {"http://127.0.0.1:4566", 1}} {
				v, err := newEvaluator(c.root, map[string]cty.Value{"endpoint_url": cty.StringVal(tc.url)}).eval(fe.Expr)
				if err != nil || !v.IsKnown() || !v.CanIterateElements() || v.LengthInt() != tc.want {
					c.fail(c.root, fe.SrcRange, `dynamic "endpoints": with endpoint_url=%q for_each must yield %d element(s)`, tc.url, tc.want)
				}
			}
		}
		content := childBlock(dyn, "content")
		for _, svc := range emulatorServices {
			a := attr(content, svc)
			if a == nil || len(a.Expr.Variables()) == 0 {
				c.fail(c.root, blockRange(dyn), `dynamic "endpoints": content must set %s to the endpoint`, svc)
			}
		}
	}
	for _, sw := range []string{"skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check", "s3_use_path_style"} {
		a := attr(p, sw)
		if a == nil || !c.root.refersTo(a.Expr, "var.endpoint_url") {
			c.fail(c.root, attrRange(a, p), "provider aws: %s must be on exactly when var.endpoint_url is set", sw)
		}
	}
}

// contractVariables are the root variables the deploy driver writes, with
// the type each must have.
var contractVariables = map[string]string{
	"region": "string", "endpoint_url": "string", "app_name": "string", "stage": "string",
	"package_zip": "string", "source_code_hash": "string", "architecture": "string",
	"stage_rate_limit": "number", "stage_burst_limit": "number", "key_rate_limit": "number",
	"key_burst_limit": "number", "quota_limit": "number", "quota_period": "string",
	"log_retention_days": "number", "lambda_timeout": "number", "lambda_memory_mb": "number",
}

func (c *checker) rootVariables() {
	for _, name := range sortedKeys(contractVariables) {
		b := c.root.block("variable", name)
		if b == nil {
			c.fail(c.root, hcl.Range{}, "variable %q is missing (deploy writes it)", name)
			continue
		}
		ta := attr(b, "type")
		if ta == nil || !equalStrings(refs(ta.Expr), []string{contractVariables[name]}) {
			c.fail(c.root, attrRange(ta, b), "variable %q must have type = %s", name, contractVariables[name])
		}
	}
	if b := c.root.block("variable", "region"); b != nil && attr(b, "default") != nil {
		c.fail(c.root, attrRange(attr(b, "default"), b), `variable "region" must have no default: the region is always explicit`)
	}
}

// validationCases are values each variable's validations must reject, and
// values they must accept.
var validationCases = []struct {
	name       string
	bad, good  []any
	needsCheck bool
}{
	{"region", []any{"", " ", "us-east", "US-EAST-1", "us-east-1a", "useast1", "us-east-123"}, []any{"us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4", "eusc-de-east-1"}, true},
	{"stage", []any{"", "a/b", "pr od", strings.Repeat("s", 65)}, []any{"prod", "dev_2", "feature-x"}, true},
	{"architecture", []any{"", "x86_64", "arm", "AMD64"}, []any{"arm64", "amd64"}, true},
	{"quota_period", []any{"", "YEAR", "HOUR"}, []any{"DAY", "WEEK", "MONTH"}, true},
	{"stage_rate_limit", []any{0, -1}, []any{1, 100, 0.5}, true},
	{"stage_burst_limit", []any{0, -5, 1.5}, []any{1, 50}, true},
	{"key_rate_limit", []any{0, -1}, []any{1, 100}, true},
	{"key_burst_limit", []any{0, -5, 2.5}, []any{1, 50}, true},
	{"quota_limit", []any{0, -1}, []any{1, 10000}, true},
	{"endpoint_url", []any{"localhost:4566", "ftp://x"}, []any{"", "http://127.0.0.1:4566", "https://localhost.localstack.cloud:4566"}, true},
	{"source_code_hash", []any{"", "abc", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}, []any{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, false},
	{"package_zip", []any{"", "  "}, []any{"dist/package.zip"}, false},
}

func (c *checker) validations() {
	for _, tc := range validationCases {
		b := c.root.block("variable", tc.name)
		if b == nil {
			continue // reported by root-variables
		}
		if len(childBlocks(b, "validation")) == 0 {
			if tc.needsCheck {
				c.fail(c.root, b.DefRange(), "variable %q has no validation block", tc.name)
			}
			continue
		}
		for _, bad := range tc.bad {
			if ok, err := c.accepts(b, bad); err != nil {
				c.fail(c.root, b.DefRange(), "variable %q: cannot evaluate validation for %#v: %v", tc.name, bad, err)
			} else if ok {
				c.fail(c.root, b.DefRange(), "variable %q accepts the bad value %#v", tc.name, bad)
			}
		}
		for _, good := range tc.good {
			if ok, err := c.accepts(b, good); err != nil {
				c.fail(c.root, b.DefRange(), "variable %q: cannot evaluate validation for %#v: %v", tc.name, good, err)
			} else if !ok {
				c.fail(c.root, b.DefRange(), "variable %q rejects the good value %#v", tc.name, good)
			}
		}
	}
}

// accepts evaluates every validation condition of a variable for one value.
func (c *checker) accepts(b *hclsyntax.Block, raw any) (bool, error) {
	v, err := toCty(raw)
	if err != nil {
		return false, err
	}
	name := b.Labels[0]
	ev := newEvaluator(c.root, map[string]cty.Value{name: v})
	for _, vb := range childBlocks(b, "validation") {
		cond := attr(vb, "condition")
		if cond == nil {
			return false, fmt.Errorf("validation without condition")
		}
		res, err := ev.eval(cond.Expr)
		if err != nil {
			return false, err
		}
		if !res.IsKnown() || res.IsNull() || res.Type() != cty.Bool {
			return false, fmt.Errorf("condition is not a known bool")
		}
		if res.False() {
			return false, nil
		}
	}
	return true, nil
}

// resolve follows a root expression through module outputs to the
// references it finally stands for ("module.apigw_rest.invoke_url" becomes
// "aws_api_gateway_stage.this.invoke_url" inside apigw_rest).
func (c *checker) resolve(expr hcl.Expression) []string {
	var out []string
	for _, r := range refs(expr) {
		parts := strings.SplitN(r, ".", 4)
		if parts[0] == "module" && len(parts) >= 3 {
			if child := c.root.calls[parts[1]]; child != nil {
				if ob := child.block("output", parts[2]); ob != nil && attr(ob, "value") != nil {
					out = append(out, refs(attr(ob, "value").Expr)...)
					continue
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func (c *checker) outputs() {
	want := []struct{ name, suffix, resType string }{
		{"api_url", "invoke_url", "aws_api_gateway_stage"},
		{"api_key", "value", "aws_api_gateway_api_key"},
		{"function_name", "function_name", "aws_lambda_function"},
		{"rest_api_id", "id", "aws_api_gateway_rest_api"},
		{"stage", "stage_name", "aws_api_gateway_stage"},
		{"usage_plan_id", "id", "aws_api_gateway_usage_plan"},
	}
	for _, w := range want {
		b := c.root.block("output", w.name)
		if b == nil {
			c.fail(c.root, hcl.Range{}, "output %q is missing", w.name)
			continue
		}
		a := attr(b, "value")
		found := false
		for _, r := range c.resolve(attrExpr(a)) {
			if strings.HasPrefix(r, w.resType+".") && strings.HasSuffix(r, "."+w.suffix) {
				found = true
			}
		}
		if !found {
			c.fail(c.root, attrRange(a, b), "output %q must come from %s.*.%s", w.name, w.resType, w.suffix)
		}
	}
	if b := c.root.block("output", "api_key"); b != nil {
		if s, ok := literalBool(attr(b, "sensitive")); !ok || !s {
			c.fail(c.root, b.DefRange(), `output "api_key" must be sensitive = true: the key must never reach plan or apply logs`)
		}
	}
	// Any other output holding the key must be sensitive as well.
	for _, b := range c.root.blocksOf("output") {
		if b.Labels[0] == "api_key" {
			continue
		}
		for _, r := range c.resolve(attrExpr(attr(b, "value"))) {
			if strings.HasPrefix(r, "aws_api_gateway_api_key.") && strings.HasSuffix(r, ".value") {
				if s, ok := literalBool(attr(b, "sensitive")); !ok || !s {
					c.fail(c.root, b.DefRange(), "output %q exposes the API key and must be sensitive", b.Labels[0])
				}
			}
		}
	}
}

func attrExpr(a *hclsyntax.Attribute) hcl.Expression {
	if a == nil {
		return nil
	}
	return a.Expr
}

// names evaluates the module arguments that name things for a few app and
// stage values and compares them with internal/naming.
func (c *checker) names() {
	defaults := map[string]string{}
	for _, n := range []string{"app_name", "stage"} {
		if b := c.root.block("variable", n); b != nil {
			if s, ok := literalString(attr(b, "default")); ok {
				defaults[n] = s
			}
		}
	}
	if defaults["app_name"] != naming.DefaultApp {
		c.fail(c.root, blockRange(c.root.block("variable", "app_name")), `variable "app_name" must default to %q (the CLI's --app default), got %q`, naming.DefaultApp, defaults["app_name"])
	}
	if defaults["stage"] != naming.DefaultStage {
		c.fail(c.root, blockRange(c.root.block("variable", "stage")), `variable "stage" must default to %q (the CLI's --stage default), got %q`, naming.DefaultStage, defaults["stage"])
	}
	checks := []struct {
		call, arg string
		name      func(app, stage string) string
	}{
		{"lambda_func", "function_name", naming.FunctionName},
		{"apigw_rest", "api_name", naming.APIName},
		{"apigw_rest", "usage_plan_name", naming.UsagePlanName},
	}
	for _, ch := range checks {
		mb := c.root.block("module", ch.call)
		if mb == nil {
			continue // reported by module-wiring
		}
		a := attr(mb, ch.arg)
		for _, s := range [][2]string{{naming.DefaultApp, naming.DefaultStage}, {"shop", "dev_2"}} {
			want := ch.name(s[0], s[1])
			v, err := newEvaluator(c.root, map[string]cty.Value{"app_name": cty.StringVal(s[0]), "stage": cty.StringVal(s[1])}).eval(attrExpr(a))
			if a == nil || err != nil || v.Type() != cty.String || !v.IsKnown() || v.AsString() != want {
				c.fail(c.root, attrRange(a, mb), "module %s: %s for app %q stage %q must be %q (internal/naming), got %s", ch.call, ch.arg, s[0], s[1], want, exprText(c.root, a))
				break
			}
		}
	}
}

// wiring lists what each module argument must be built from.
var wiring = []struct{ call, arg, from string }{
	{"lambda_func", "stage", "var.stage"},
	{"lambda_func", "package_zip", "var.package_zip"},
	{"lambda_func", "source_code_hash", "var.source_code_hash"},
	{"lambda_func", "architecture", "var.architecture"},
	{"lambda_func", "timeout", "var.lambda_timeout"},
	{"lambda_func", "memory_mb", "var.lambda_memory_mb"},
	{"lambda_func", "log_retention_days", "var.log_retention_days"},
	{"apigw_rest", "stage", "var.stage"},
	{"apigw_rest", "stage_rate_limit", "var.stage_rate_limit"},
	{"apigw_rest", "stage_burst_limit", "var.stage_burst_limit"},
	{"apigw_rest", "key_rate_limit", "var.key_rate_limit"},
	{"apigw_rest", "key_burst_limit", "var.key_burst_limit"},
	{"apigw_rest", "quota_limit", "var.quota_limit"},
	{"apigw_rest", "quota_period", "var.quota_period"},
	{"apigw_rest", "lambda_function_name", "module.lambda_func"},
	{"apigw_rest", "lambda_alias_name", "module.lambda_func"},
}

func (c *checker) wiring() {
	for call, src := range map[string]string{"lambda_func": "./modules/lambda-func", "apigw_rest": "./modules/apigw-rest"} {
		mb := c.root.block("module", call)
		if mb == nil {
			c.fail(c.root, hcl.Range{}, "module %q is not called (source %s)", call, src)
			continue
		}
		if got, _ := literalString(attr(mb, "source")); got != src {
			c.fail(c.root, attrRange(attr(mb, "source"), mb), "module %q must use source %q, got %q", call, src, got)
		}
	}
	for _, w := range wiring {
		mb := c.root.block("module", w.call)
		if mb == nil {
			continue
		}
		a := attr(mb, w.arg)
		// Exactly the one variable: a swapped or constant limit would
		// silently deploy a different throttle than the CLI reports.
		ok := a != nil && c.root.refersTo(a.Expr, w.from)
		if ok && strings.HasPrefix(w.from, "var.") {
			ok = equalStrings(refs(a.Expr), []string{w.from})
		}
		if !ok {
			c.fail(c.root, attrRange(a, mb), "module %s: %s must be %s, got %s", w.call, w.arg, w.from, exprText(c.root, a))
		}
		// The child module must declare the argument it receives.
		if child := c.root.calls[w.call]; child != nil && child.block("variable", w.arg) == nil {
			c.fail(child, hcl.Range{}, "module %s does not declare variable %q", w.call, w.arg)
		}
	}
	// Every root variable must reach something: a declared-but-unused limit
	// would let the CLI report values Terraform never applies.
	var all []hcl.Expression
	var collect func(body *hclsyntax.Body)
	collect = func(body *hclsyntax.Body) {
		for _, a := range body.Attributes {
			all = append(all, a.Expr)
		}
		for _, b := range body.Blocks {
			if b.Type != "variable" {
				collect(b.Body)
			}
		}
	}
	for _, b := range c.root.blocks {
		if b.Type != "variable" {
			collect(b.Body)
		}
	}
	for _, v := range c.root.blocksOf("variable") {
		used := false
		for _, e := range all {
			if c.root.refersTo(e, "var."+v.Labels[0]) {
				used = true
				break
			}
		}
		if !used {
			c.fail(c.root, v.DefRange(), "variable %q is declared but never used", v.Labels[0])
		}
	}
}

func (c *checker) guarded() {
	addrs := map[string]bool{}
	for name, m := range c.root.calls {
		for _, b := range m.blocksOf("resource") {
			addrs["module."+name+"."+b.Labels[0]+"."+b.Labels[1]] = true
		}
	}
	for _, a := range []string{FunctionAddress, RestAPIAddress, PermissionAddress} {
		if !addrs[a] {
			c.fail(c.root, hcl.Range{}, "%s is missing: deploy guards and imports that address", a)
		}
	}
}

func (c *checker) lambdaFunction() *hclsyntax.Block {
	if !c.needModule(c.lambda, "lambda_func") {
		return nil
	}
	return c.need(c.lambda, "aws_lambda_function", "this")
}

func (c *checker) lambdaRuntime() {
	fn := c.lambdaFunction()
	if fn == nil {
		return
	}
	c.wantString(c.lambda, fn, "runtime", "provided.al2023")
	c.wantString(c.lambda, fn, "handler", "bootstrap")
	if p, ok := literalBool(attr(fn, "publish")); !ok || !p {
		c.fail(c.lambda, attrRange(attr(fn, "publish"), fn), "aws_lambda_function.this.publish must be true: the live alias needs published versions")
	}
}

func (c *checker) lambdaArchitecture() {
	fn := c.lambdaFunction()
	if fn == nil {
		return
	}
	a := attr(fn, "architectures")
	for arch, want := range map[string]string{"arm64": "arm64", "amd64": "x86_64"} {
		v, err := newEvaluator(c.lambda, map[string]cty.Value{"architecture": cty.StringVal(arch)}).eval(attrExpr(a))
		if a == nil || err != nil || !reflect.DeepEqual(ctyStrings(v), []string{want}) {
			c.fail(c.lambda, attrRange(a, fn), "architectures with var.architecture=%q must be [%q], got %s", arch, want, exprText(c.lambda, a))
		}
	}
}

func (c *checker) lambdaPackage() {
	fn := c.lambdaFunction()
	if fn == nil {
		return
	}
	c.wantRef(c.lambda, fn, "filename", "var.package_zip")
	c.wantRef(c.lambda, fn, "source_code_hash", "var.source_code_hash")
}

// liveAlias returns the alias named live of the function.
func (c *checker) liveAlias() *hclsyntax.Block {
	if c.lambda == nil {
		return nil
	}
	for _, b := range c.lambda.resources("aws_lambda_alias") {
		v, err := newEvaluator(c.lambda, nil).eval(attrExpr(attr(b, "name")))
		if err == nil && v.Type() == cty.String && v.IsKnown() && v.AsString() == "live" {
			return b
		}
	}
	return nil
}

func (c *checker) lambdaAlias() {
	if c.lambdaFunction() == nil {
		return
	}
	al := c.liveAlias()
	if al == nil {
		c.fail(c.lambda, hcl.Range{}, `no aws_lambda_alias named "live"`)
		return
	}
	c.wantRef(c.lambda, al, "function_name", "aws_lambda_function.this")
	c.wantRef(c.lambda, al, "function_version", "aws_lambda_function.this.version")
}

func (c *checker) lambdaEnvironment() {
	fn := c.lambdaFunction()
	if fn == nil {
		return
	}
	env := childBlock(fn, "environment")
	a := attr(env, "variables")
	v, err := newEvaluator(c.lambda, map[string]cty.Value{"stage": cty.StringVal("STAGE-X"), "environment": cty.MapValEmpty(cty.String)}).eval(attrExpr(a))
	m, ok := asMap(v)
	if a == nil || err != nil || !ok {
		c.fail(c.lambda, attrRange(a, fn), "environment.variables must set STAGE = var.stage")
		return
	}
	if s, ok := m["STAGE"]; !ok || s.Type() != cty.String || !s.IsKnown() || s.AsString() != "STAGE-X" {
		c.fail(c.lambda, a.SrcRange, "environment.variables must set STAGE = var.stage")
	}
}

// asMap returns the elements of a known, non-null map or object.
func asMap(v cty.Value) (map[string]cty.Value, bool) {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil, false
	}
	return v.AsValueMap(), true
}

func (c *checker) logGroup() {
	fn := c.lambdaFunction()
	if fn == nil {
		return
	}
	lg := c.need(c.lambda, "aws_cloudwatch_log_group", "this")
	if lg == nil {
		return
	}
	a := attr(lg, "name")
	v, err := newEvaluator(c.lambda, map[string]cty.Value{"function_name": cty.StringVal("fn-x")}).eval(attrExpr(a))
	if a == nil || err != nil || v.Type() != cty.String || v.AsString() != "/aws/lambda/fn-x" {
		c.fail(c.lambda, attrRange(a, lg), `log group name must be "/aws/lambda/${var.function_name}", the group Lambda writes to`)
	}
	c.wantRef(c.lambda, lg, "retention_in_days", "var.log_retention_days")
	if fa := attr(fn, "function_name"); fa == nil || !equalStrings(refs(fa.Expr), []string{"var.function_name"}) {
		c.fail(c.lambda, attrRange(fa, fn), "function_name must be var.function_name, the name the log group is built from")
	}
	dep := attr(fn, "depends_on")
	if dep == nil || !c.lambda.refersTo(dep.Expr, "aws_cloudwatch_log_group.this") {
		c.fail(c.lambda, attrRange(dep, fn), "aws_lambda_function.this must depends_on aws_cloudwatch_log_group.this, or Lambda may create the group first, without retention")
	}
}

// allowedLogActions are the only actions the execution role may have.
var allowedLogActions = map[string]bool{"logs:CreateLogStream": true, "logs:PutLogEvents": true}

func (c *checker) iam() {
	if !c.needModule(c.lambda, "lambda_func") {
		return
	}
	const logGroupARN = "${aws_cloudwatch_log_group.this.arn}"
	var policies []*hclsyntax.Block
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_policy"} {
		policies = append(policies, c.lambda.resources(typ)...)
	}
	for _, typ := range []string{"aws_iam_role_policy_attachment", "aws_iam_role_policy_attachments_exclusive", "aws_iam_policy_attachment"} {
		for _, b := range c.lambda.resources(typ) {
			c.fail(c.lambda, b.DefRange(), "%s: managed policies (AWSLambdaBasicExecutionRole allows logs:* on every group) are not allowed; use the inline, scoped policy", blockName(b))
		}
	}
	if role := c.lambda.resource("aws_iam_role", "this"); role != nil {
		if a := attr(role, "managed_policy_arns"); a != nil {
			c.fail(c.lambda, a.SrcRange, "aws_iam_role.this: managed_policy_arns are not allowed; use the inline, scoped policy")
		}
		policies = append(policies, childBlocks(role, "inline_policy")...)
	}
	if len(policies) == 0 {
		c.fail(c.lambda, hcl.Range{}, "no IAM policy lets the function write its logs")
		return
	}
	for _, p := range policies {
		a := attr(p, "policy")
		v, err := newEvaluator(c.lambda, nil).eval(attrExpr(a))
		if a == nil || err != nil || v.Type() != cty.String || !v.IsKnown() {
			c.fail(c.lambda, attrRange(a, p), "%s.policy must be a jsonencode({...}) document this checker can read: %v", blockName(p), err)
			continue
		}
		var doc struct {
			Statement []struct {
				Effect   string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(v.AsString()), &doc); err != nil || len(doc.Statement) == 0 {
			c.fail(c.lambda, a.SrcRange, "%s.policy has no statements: %v", blockName(p), err)
			continue
		}
		for i, st := range doc.Statement {
			if st.Effect != "Allow" {
				continue
			}
			for _, act := range stringList(st.Action) {
				if !allowedLogActions[act] {
					c.fail(c.lambda, a.SrcRange, "%s statement %d allows %q; only logs:CreateLogStream and logs:PutLogEvents are allowed", blockName(p), i, act)
				}
			}
			res := stringList(st.Resource)
			if len(res) == 0 {
				c.fail(c.lambda, a.SrcRange, "%s statement %d has no Resource", blockName(p), i)
			}
			for _, r := range res {
				// The group's own ARN, or its log streams; never "*" or
				// any other group.
				if r != logGroupARN && r != logGroupARN+":*" && r != logGroupARN+":log-stream:*" {
					c.fail(c.lambda, a.SrcRange, "%s statement %d allows resource %q; only the function's own log group (aws_cloudwatch_log_group.this.arn) is allowed", blockName(p), i, r)
				}
			}
		}
	}
}

// stringList reads an IAM Action/Resource, which is a string or a list.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func (c *checker) restAPI() *hclsyntax.Block {
	if !c.needModule(c.apigw, "apigw_rest") {
		return nil
	}
	return c.need(c.apigw, "aws_api_gateway_rest_api", "this")
}

func (c *checker) regional() {
	api := c.restAPI()
	if api == nil {
		return
	}
	ec := childBlock(api, "endpoint_configuration")
	a := attr(ec, "types")
	v, err := newEvaluator(c.apigw, nil).eval(attrExpr(a))
	if a == nil || err != nil || !reflect.DeepEqual(ctyStrings(v), []string{"REGIONAL"}) {
		c.fail(c.apigw, attrRange(a, api), `aws_api_gateway_rest_api.this: endpoint_configuration { types = ["REGIONAL"] } is required`)
	}
}

func ctyStrings(v cty.Value) []string {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.Type() == cty.String && e.IsKnown() {
			out = append(out, e.AsString())
		}
	}
	return out
}

func (c *checker) keyRequired() {
	if c.restAPI() == nil {
		return
	}
	methods := c.apigw.resources("aws_api_gateway_method")
	if len(methods) == 0 {
		c.fail(c.apigw, hcl.Range{}, "no aws_api_gateway_method at all")
	}
	for _, m := range methods {
		if v, ok := literalBool(attr(m, "api_key_required")); !ok || !v {
			c.fail(c.apigw, attrRange(attr(m, "api_key_required"), m), "%s: api_key_required must be true; a method without it serves anyone", blockName(m))
		}
		c.wantString(c.apigw, m, "authorization", "NONE")
	}
}

// methodOn returns the ANY method whose resource_id references target.
func (c *checker) methodOn(target string) *hclsyntax.Block {
	for _, m := range c.apigw.resources("aws_api_gateway_method") {
		hm, _ := literalString(attr(m, "http_method"))
		if hm == "ANY" && c.apigw.refersTo(attrExpr(attr(m, "resource_id")), target) {
			return m
		}
	}
	return nil
}

// proxyResource returns the {proxy+} resource under the API's root.
func (c *checker) proxyResource() *hclsyntax.Block {
	for _, r := range c.apigw.resources("aws_api_gateway_resource") {
		pp, _ := literalString(attr(r, "path_part"))
		if pp == "{proxy+}" && c.apigw.refersTo(attrExpr(attr(r, "parent_id")), "aws_api_gateway_rest_api.this.root_resource_id") {
			return r
		}
	}
	return nil
}

func (c *checker) routes() {
	if c.restAPI() == nil {
		return
	}
	if c.methodOn("aws_api_gateway_rest_api.this.root_resource_id") == nil {
		c.fail(c.apigw, hcl.Range{}, "no ANY method on the root resource (ANY /)")
	}
	pr := c.proxyResource()
	if pr == nil {
		c.fail(c.apigw, hcl.Range{}, "no {proxy+} resource under the root")
		return
	}
	if c.methodOn("aws_api_gateway_resource."+pr.Labels[1]) == nil {
		c.fail(c.apigw, pr.DefRange(), "no ANY method on /{proxy+}")
	}
}

func (c *checker) integrations() {
	if c.restAPI() == nil {
		return
	}
	integrations := c.apigw.resources("aws_api_gateway_integration")
	for _, m := range c.apigw.resources("aws_api_gateway_method") {
		addr := "aws_api_gateway_method." + m.Labels[1]
		var in *hclsyntax.Block
		for _, i := range integrations {
			if c.apigw.refersTo(attrExpr(attr(i, "http_method")), addr) || c.apigw.refersTo(attrExpr(attr(i, "resource_id")), addr) {
				in = i
			}
		}
		if in == nil {
			c.fail(c.apigw, m.DefRange(), "%s has no integration", blockName(m))
			continue
		}
		c.wantString(c.apigw, in, "type", "AWS_PROXY")
		c.wantString(c.apigw, in, "integration_http_method", "POST")
		c.wantRef(c.apigw, in, "uri", "var.lambda_invoke_arn")
	}
	// The URI the module receives must be the live alias's invoke ARN,
	// never the unqualified function ($LATEST).
	mb := c.root.block("module", "apigw_rest")
	a := attr(mb, "lambda_invoke_arn")
	ok := false
	for _, r := range c.resolve(attrExpr(a)) {
		if strings.HasPrefix(r, "aws_lambda_alias.") && strings.HasSuffix(r, ".invoke_arn") {
			ok = true
		}
	}
	if !ok {
		c.fail(c.root, attrRange(a, mb), "module apigw_rest: lambda_invoke_arn must be the live alias's invoke_arn (via a lambda_func output), got %s", exprText(c.root, a))
	}
	aa := attr(mb, "lambda_alias_name")
	ok = false
	for _, r := range c.resolve(attrExpr(aa)) {
		if strings.HasPrefix(r, "aws_lambda_alias.") && strings.HasSuffix(r, ".name") {
			ok = true
		}
	}
	if !ok {
		c.fail(c.root, attrRange(aa, mb), "module apigw_rest: lambda_alias_name must be the live alias's name (via a lambda_func output)")
	}
}

// routingAttrs are the attributes of each routing resource whose change
// must produce a new deployment, when triggers name attributes one by one
// instead of whole resources.
var routingAttrs = map[string][]string{
	"aws_api_gateway_resource":    {"id", "path_part", "parent_id"},
	"aws_api_gateway_method":      {"id", "http_method", "authorization", "api_key_required", "request_parameters"},
	"aws_api_gateway_integration": {"id", "type", "uri", "integration_http_method"},
}

func (c *checker) deployment() {
	if c.restAPI() == nil {
		return
	}
	deps := c.apigw.resources("aws_api_gateway_deployment")
	if len(deps) != 1 {
		c.fail(c.apigw, hcl.Range{}, "want exactly one aws_api_gateway_deployment, found %d", len(deps))
		if len(deps) == 0 {
			return
		}
	}
	d := deps[0]
	tr := attr(d, "triggers")
	if tr == nil {
		c.fail(c.apigw, d.DefRange(), "%s has no triggers: a routing change (e.g. api_key_required) would never reach the stage", blockName(d))
	} else {
		covered := map[string]bool{}
		for _, r := range refs(tr.Expr) {
			covered[r] = true
		}
		for typ, attrs := range routingAttrs {
			for _, b := range c.apigw.resources(typ) {
				addr := typ + "." + b.Labels[1]
				if covered[addr] {
					continue // the whole resource: every attribute
				}
				var missing []string
				for _, at := range attrs {
					if !covered[addr+"."+at] {
						missing = append(missing, at)
					}
				}
				if len(missing) > 0 {
					c.fail(c.apigw, tr.SrcRange, "%s.triggers does not cover %s (missing %s): changing it would leave the old deployment serving", blockName(d), addr, strings.Join(missing, ", "))
				}
			}
		}
	}
	lc := childBlock(d, "lifecycle")
	if v, ok := literalBool(attr(lc, "create_before_destroy")); !ok || !v {
		c.fail(c.apigw, blockRange(d), "%s needs lifecycle { create_before_destroy = true }: the stage must move to the new deployment before the old one is deleted", blockName(d))
	}
}

func (c *checker) stageBlock() *hclsyntax.Block {
	if c.restAPI() == nil {
		return nil
	}
	return c.need(c.apigw, "aws_api_gateway_stage", "this")
}

func (c *checker) stage() {
	st := c.stageBlock()
	if st == nil {
		return
	}
	c.wantRef(c.apigw, st, "deployment_id", "aws_api_gateway_deployment")
	c.wantRef(c.apigw, st, "rest_api_id", "aws_api_gateway_rest_api.this")
	if a := attr(st, "stage_name"); a == nil || !equalStrings(refs(a.Expr), []string{"var.stage"}) {
		c.fail(c.apigw, attrRange(a, st), "aws_api_gateway_stage.this.stage_name must be var.stage")
	}
	for _, d := range c.apigw.resources("aws_api_gateway_deployment") {
		if a := attr(d, "stage_name"); a != nil {
			c.fail(c.apigw, a.SrcRange, "%s.stage_name creates an implicit stage; use the explicit aws_api_gateway_stage", blockName(d))
		}
	}
}

func (c *checker) methodSettings() {
	st := c.stageBlock()
	if st == nil {
		return
	}
	var ms *hclsyntax.Block
	for _, b := range c.apigw.resources("aws_api_gateway_method_settings") {
		if p, _ := literalString(attr(b, "method_path")); p == "*/*" {
			ms = b
		}
	}
	if ms == nil {
		c.fail(c.apigw, hcl.Range{}, `no aws_api_gateway_method_settings with method_path = "*/*": the stage would have no throttle of its own`)
		return
	}
	c.wantRef(c.apigw, ms, "stage_name", "aws_api_gateway_stage.this")
	s := childBlock(ms, "settings")
	if s == nil {
		c.fail(c.apigw, ms.DefRange(), "%s has no settings block", blockName(ms))
		return
	}
	c.wantRef(c.apigw, s, "throttling_rate_limit", "var.stage_rate_limit")
	c.wantRef(c.apigw, s, "throttling_burst_limit", "var.stage_burst_limit")
}

func (c *checker) usagePlan() {
	st := c.stageBlock()
	if st == nil {
		return
	}
	plans := c.apigw.resources("aws_api_gateway_usage_plan")
	if len(plans) == 0 {
		c.fail(c.apigw, hcl.Range{}, "no aws_api_gateway_usage_plan: API keys would have no throttle or quota")
		return
	}
	for _, p := range plans {
		c.wantRef(c.apigw, p, "name", "var.usage_plan_name")
		as := childBlock(p, "api_stages")
		if as == nil {
			c.fail(c.apigw, p.DefRange(), "%s has no api_stages: its keys would not reach the API", blockName(p))
		} else {
			c.wantRef(c.apigw, as, "api_id", "aws_api_gateway_rest_api.this")
			c.wantRef(c.apigw, as, "stage", "aws_api_gateway_stage.this")
		}
		if ts := childBlock(p, "throttle_settings"); ts == nil {
			c.fail(c.apigw, p.DefRange(), "%s has no throttle_settings", blockName(p))
		} else {
			c.wantRef(c.apigw, ts, "rate_limit", "var.key_rate_limit")
			c.wantRef(c.apigw, ts, "burst_limit", "var.key_burst_limit")
		}
		if qs := childBlock(p, "quota_settings"); qs == nil {
			c.fail(c.apigw, p.DefRange(), "%s has no quota_settings", blockName(p))
		} else {
			c.wantRef(c.apigw, qs, "limit", "var.quota_limit")
			c.wantRef(c.apigw, qs, "period", "var.quota_period")
		}
	}
}

func (c *checker) apiKey() {
	if c.restAPI() == nil {
		return
	}
	keys := c.apigw.resources("aws_api_gateway_api_key")
	if len(keys) == 0 {
		c.fail(c.apigw, hcl.Range{}, "no aws_api_gateway_api_key")
		return
	}
	for _, k := range keys {
		addr := "aws_api_gateway_api_key." + k.Labels[1]
		if v, ok := literalBool(attr(k, "enabled")); ok && !v {
			c.fail(c.apigw, attr(k, "enabled").SrcRange, "%s is disabled", addr)
		}
		attached := false
		for _, upk := range c.apigw.resources("aws_api_gateway_usage_plan_key") {
			if c.disabled(upk) {
				continue
			}
			if c.apigw.refersTo(attrExpr(attr(upk, "key_id")), addr) &&
				c.apigw.refersTo(attrExpr(attr(upk, "usage_plan_id")), "aws_api_gateway_usage_plan") {
				if kt, _ := literalString(attr(upk, "key_type")); kt == "API_KEY" {
					attached = true
				}
			}
		}
		if !attached {
			c.fail(c.apigw, k.DefRange(), "%s is not attached to the usage plan by an aws_api_gateway_usage_plan_key (key_type API_KEY): every request would get 403", addr)
		}
	}
}

func (c *checker) permissionBlock() *hclsyntax.Block {
	if !c.needModule(c.apigw, "apigw_rest") {
		return nil
	}
	return c.need(c.apigw, "aws_lambda_permission", "apigw_invoke")
}

func (c *checker) permission() {
	p := c.permissionBlock()
	if p == nil {
		return
	}
	c.wantString(c.apigw, p, "action", "lambda:InvokeFunction")
	c.wantString(c.apigw, p, "principal", "apigateway.amazonaws.com")
	c.wantRef(c.apigw, p, "function_name", "var.lambda_function_name")
	c.wantRef(c.apigw, p, "qualifier", "var.lambda_alias_name")
	a := attr(p, "source_arn")
	const want = "${aws_api_gateway_rest_api.this.execution_arn}/"
	v, err := newEvaluator(c.apigw, nil).eval(attrExpr(a))
	if a == nil || err != nil || v.Type() != cty.String || !v.IsKnown() || !strings.HasPrefix(v.AsString(), want) {
		c.fail(c.apigw, attrRange(a, p), `aws_lambda_permission.apigw_invoke.source_arn must be scoped to this API: "${aws_api_gateway_rest_api.this.execution_arn}/*/*", got %s`, exprText(c.apigw, a))
	}
}

func (c *checker) statementID() {
	p := c.permissionBlock()
	if p == nil {
		return
	}
	if a := attr(p, "statement_id"); a != nil {
		c.fail(c.apigw, a.SrcRange, "statement_id is fixed: a second stage or a re-created permission collides (409 AddPermission); use statement_id_prefix with the stage")
	}
	a := attr(p, "statement_id_prefix")
	if a == nil {
		c.fail(c.apigw, p.DefRange(), "aws_lambda_permission.apigw_invoke needs statement_id_prefix (a per-stage prefix; Terraform adds a unique suffix)")
		return
	}
	ids := map[string]bool{}
	for _, stage := range []string{"prod", "dev"} {
		v, err := newEvaluator(c.apigw, map[string]cty.Value{"stage": cty.StringVal(stage)}).eval(a.Expr)
		if err == nil && v.Type() == cty.String && v.IsKnown() {
			ids[v.AsString()] = true
		}
	}
	if len(ids) != 2 {
		c.fail(c.apigw, a.SrcRange, "statement_id_prefix must depend on var.stage, so stages never share a statement id, got %s", exprText(c.apigw, a))
	}
}

// disabled reports a resource whose count is zero or whose for_each is
// empty for the default-free evaluation: it would not exist.
func (c *checker) disabled(b *hclsyntax.Block) bool {
	if a := attr(b, "count"); a != nil {
		v, err := newEvaluator(c.apigw, nil).eval(a.Expr)
		return err == nil && v.IsKnown() && v.Type() == cty.Number && v.Equals(cty.Zero).True()
	}
	if a := attr(b, "for_each"); a != nil {
		v, err := newEvaluator(c.apigw, nil).eval(a.Expr)
		return err == nil && v.IsKnown() && v.CanIterateElements() && v.LengthInt() == 0
	}
	return false
}
