package tfconfig

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/naming"
	"github.com/challengectl/challengectl/internal/testtools"
)

// treeDir is the real terraform/ tree of this checkout.
func treeDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testtools.ModuleRoot(t), "terraform")
}

// TestRealTreeHoldsEveryInvariant is the gate: the committed tree breaks no
// rule. TestMutationsAreCaught proves each rule can fail.
func TestRealTreeHoldsEveryInvariant(t *testing.T) {
	vs, err := Check(treeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s", v)
	}
}

// TestVariableDefaultsEqualCLIDefaults compares every limit default with
// internal/limits.Default(), through the JSON names both sides share, and
// the name defaults with the CLI's --app/--stage defaults.
func TestVariableDefaultsEqualCLIDefaults(t *testing.T) {
	defaults, err := VariableDefaults(treeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(limits.Default())
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != 6 {
		t.Fatalf("limits.Default() has %d JSON fields, this test knows 6: extend it", len(want))
	}
	for name, w := range want {
		got, ok := defaults[name]
		if !ok {
			t.Errorf("variable %q has no default; limits.Default() says %v", name, w)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("variable %q defaults to %#v, limits.Default() says %#v", name, got, w)
		}
	}
	// The CLI's defaults (root.go: --app challenge-api, --stage prod) and the
	// names internal/naming derives from them.
	if defaults["app_name"] != "challenge-api" || defaults["stage"] != "prod" {
		t.Errorf("app_name/stage default to %v/%v, the CLI to challenge-api/prod", defaults["app_name"], defaults["stage"])
	}
	if got := naming.FunctionName(defaults["app_name"].(string), defaults["stage"].(string)); got != "challenge-api-prod" {
		t.Errorf("default function name %q", got)
	}
	for name, want := range map[string]any{"architecture": "arm64", "endpoint_url": "", "log_retention_days": 14.0, "lambda_timeout": 10.0, "lambda_memory_mb": 128.0} {
		if !reflect.DeepEqual(defaults[name], want) {
			t.Errorf("variable %q defaults to %#v, want %#v", name, defaults[name], want)
		}
	}
	for _, required := range []string{"region", "package_zip", "source_code_hash"} {
		if _, ok := defaults[required]; ok {
			t.Errorf("variable %q has a default; it must be supplied", required)
		}
	}
}

func TestVariablesDescribeTypesAndValidations(t *testing.T) {
	vars, err := Variables(treeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Variable{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	if len(byName) != len(contractVariables) {
		t.Errorf("%d variables, the contract has %d", len(byName), len(contractVariables))
	}
	for name, typ := range contractVariables {
		v, ok := byName[name]
		if !ok {
			t.Errorf("variable %q missing", name)
			continue
		}
		if v.Type != typ {
			t.Errorf("variable %q type %q, want %q", name, v.Type, typ)
		}
		if v.Description == "" {
			t.Errorf("variable %q has no description", name)
		}
		if v.Pos.Filename == "" || v.Pos.Line == 0 {
			t.Errorf("variable %q has no position: %+v", name, v.Pos)
		}
	}
	if !byName["region"].Required {
		t.Error("region must be required")
	}
	for _, name := range []string{"region", "stage", "architecture", "quota_period", "stage_rate_limit", "stage_burst_limit", "key_rate_limit", "key_burst_limit", "quota_limit"} {
		if byName[name].Validations == 0 {
			t.Errorf("variable %q has no validation", name)
		}
	}
}

func TestOutputsAndSensitivity(t *testing.T) {
	outs, err := Outputs(treeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range outs {
		got[o.Name] = o.Sensitive
	}
	want := map[string]bool{"api_url": false, "api_key": true, "function_name": false, "rest_api_id": false, "stage": false, "usage_plan_id": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outputs (name: sensitive) = %v, want %v", got, want)
	}
}

func TestResourceAddressesHoldTheGuardedOnes(t *testing.T) {
	addrs, err := ResourceAddresses(treeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, a := range addrs {
		have[a] = true
	}
	for _, a := range []string{FunctionAddress, RestAPIAddress, PermissionAddress,
		"module.lambda_func.aws_lambda_alias.live", "module.apigw_rest.aws_api_gateway_usage_plan_key.this"} {
		if !have[a] {
			t.Errorf("address %s missing from %v", a, addrs)
		}
	}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "module.lambda_func.") && !strings.HasPrefix(a, "module.apigw_rest.") {
			t.Errorf("unexpected root-level resource %s", a)
		}
	}
}

// TestTofuFmtIsClean runs the pinned OpenTofu's formatter on the tree, and
// on a badly formatted copy to show the check can fail.
func TestTofuFmtIsClean(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	run := func(dir string) (string, error) {
		cmd := exec.Command(tofu, "fmt", "-check", "-recursive", "-diff", dir)
		// A hermetic CLI config: no ~/.terraformrc lookups or plugin cache.
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(treeDir(t)); err != nil {
		t.Fatalf("tofu fmt -check -recursive terraform: %v\n%s", err, out)
	}
	bad := copyTree(t, treeDir(t))
	p := filepath.Join(bad, "modules", "apigw-rest", "main.tf")
	mutate(t, p, `  http_method      = "ANY"`, `  http_method = "ANY"`)
	out, err := run(bad)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "main.tf") {
		t.Fatalf("tofu fmt -check accepted a misaligned file: %v\n%s", err, out)
	}
}

func TestCheckValues(t *testing.T) {
	dir := treeDir(t)
	good := map[string]any{
		"region":           "us-east-1",
		"package_zip":      "dist/package.zip",
		"source_code_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		"stage":            "dev",
		"quota_limit":      500,
		"architecture":     "amd64",
	}
	if err := CheckValues(dir, good); err != nil {
		t.Fatalf("good values rejected: %v", err)
	}
	cases := []struct {
		name    string
		change  map[string]any
		drop    string
		problem string // the variable the problem must name
		text    string // part of the message
	}{
		{"empty region", map[string]any{"region": ""}, "", "region", "non-empty AWS region"},
		{"malformed region", map[string]any{"region": "useast1"}, "", "region", "us-east-1"},
		{"missing region", nil, "region", "region", "required"},
		{"undeclared", map[string]any{"regoin": "us-east-1"}, "", "regoin", "not declared"},
		{"zero limit", map[string]any{"key_rate_limit": 0}, "", "key_rate_limit", "positive"},
		{"fractional burst", map[string]any{"stage_burst_limit": 2.5}, "", "stage_burst_limit", "whole"},
		{"bad period", map[string]any{"quota_period": "YEAR"}, "", "quota_period", "DAY, WEEK or MONTH"},
		{"bad arch", map[string]any{"architecture": "x86_64"}, "", "architecture", "arm64 or amd64"},
		{"wrong type", map[string]any{"quota_limit": "lots"}, "", "quota_limit", "number"},
		{"null for non-nullable", map[string]any{"stage": nil}, "", "stage", "null"},
		// Valid at the root, rejected by a module: caught before Terraform.
		{"stage too long for the statement id", map[string]any{"app_name": "a", "stage": strings.Repeat("s", 52)}, "", "stage", "module apigw_rest, variable stage: The stage must be at most 51"},
		{"function name too long", map[string]any{"app_name": strings.Repeat("a", 40), "stage": strings.Repeat("s", 19)}, "", "app_name", "module lambda_func, variable function_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string]any{}
			for k, v := range good {
				vals[k] = v
			}
			for k, v := range tc.change {
				vals[k] = v
			}
			delete(vals, tc.drop)
			err := CheckValues(dir, vals)
			var ve *ValuesError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValuesError", err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Variable != tc.problem || !strings.Contains(ve.Problems[0].Message, tc.text) {
				t.Fatalf("problems %+v, want one on %s mentioning %q", ve.Problems, tc.problem, tc.text)
			}
		})
	}
}

func TestParseErrorsAreReported(t *testing.T) {
	dir := copyTree(t, treeDir(t))
	if err := os.WriteFile(filepath.Join(dir, "broken.tf"), []byte("resource \"x\" {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Check(dir)
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "broken.tf") {
		t.Fatalf("Check on a broken file: %v, want a *ParseError naming broken.tf", err)
	}
	if _, err := Variables(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("Variables on a missing dir succeeded")
	}
}

// copyTree copies a Terraform tree (*.tf files and folders) into a temp dir.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".terraform") {
				return filepath.SkipDir // local init data of a developer
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(p, ".tf") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// mutate replaces old by new in one file, failing when old is absent, so a
// mutation that no longer applies cannot pass silently.
func mutate(t testing.TB, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("mutation: %q not found in %s", old, path)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
