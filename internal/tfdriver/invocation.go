package tfdriver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/zclconf/go-cty/cty"
)

// Backend is the S3 backend with DynamoDB locking of one stage.
type Backend struct {
	Bucket string
	Key    string
	Region string
	Table  string
	// EndpointURL sends the backend's S3, DynamoDB and STS calls to an
	// emulator and turns on the switches an emulator needs.
	EndpointURL string
	Profile     string
}

// LockID is the DynamoDB LockID of the state lock: "<bucket>/<key>".
func (b Backend) LockID() string { return b.Bucket + "/" + b.Key }

// ConfigHCL renders the backend settings as a -backend-config file for the
// current Terraform and OpenTofu releases (see ConfigHCLFor).
func (b Backend) ConfigHCL() []byte { return b.ConfigHCLFor(nil) }

// skipAccountIDSince is the first Terraform release whose S3 backend accepts
// skip_requesting_account_id (hashicorp/terraform#34002, released in 1.6.1).
// Terraform 1.6.0 rejects the argument ("An argument named
// \"skip_requesting_account_id\" is not expected here"); OpenTofu has it from
// 1.6.0 on, but its version numbers cannot be told apart from Terraform's.
var skipAccountIDSince = version.Must(version.NewVersion("1.6.1"))

// ConfigHCLFor renders the backend settings as a -backend-config file for
// the binary of version v (nil means a current release). A file (not
// -backend-config=k=v flags) is the only way to pass the `endpoints` object,
// and it keeps argv short. It holds no secrets.
func (b Backend) ConfigHCLFor(v *version.Version) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.SetAttributeValue("bucket", cty.StringVal(b.Bucket))
	body.SetAttributeValue("key", cty.StringVal(b.Key))
	body.SetAttributeValue("region", cty.StringVal(b.Region))
	body.SetAttributeValue("dynamodb_table", cty.StringVal(b.Table))
	body.SetAttributeValue("encrypt", cty.True)
	if b.Profile != "" {
		body.SetAttributeValue("profile", cty.StringVal(b.Profile))
	}
	if b.EndpointURL != "" {
		canSkipAccountID := v == nil || !v.Core().LessThan(skipAccountIDSince)
		endpoints := map[string]cty.Value{
			"s3":       cty.StringVal(b.EndpointURL),
			"dynamodb": cty.StringVal(b.EndpointURL),
			"sts":      cty.StringVal(b.EndpointURL),
		}
		if !canSkipAccountID {
			// Terraform 1.6.0 always looks the account ID up (IAM GetUser,
			// then STS GetCallerIdentity): keep those calls on the emulator.
			endpoints["iam"] = cty.StringVal(b.EndpointURL)
		}
		body.AppendNewline()
		body.SetAttributeValue("endpoints", cty.ObjectVal(endpoints))
		body.SetAttributeValue("use_path_style", cty.True)
		body.SetAttributeValue("skip_credentials_validation", cty.True)
		if canSkipAccountID {
			body.SetAttributeValue("skip_requesting_account_id", cty.True)
		}
		body.SetAttributeValue("skip_metadata_api_check", cty.True)
	}
	return hclwrite.Format(f.Bytes())
}

// VarFileJSON renders the root-module variables as a .tfvars.json document,
// keys sorted, so variables never travel through argv (where `ps` and CI
// logs would show them).
func VarFileJSON(vars map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vars); err != nil {
		return nil, fmt.Errorf("encode Terraform variables: %w", err)
	}
	return buf.Bytes(), nil
}

// Layout names the files the driver generates for one stage. They all live
// under the stage's TF_DATA_DIR, so stages never share them and a single
// `.terraform-*` ignore rule keeps them out of git.
type Layout struct {
	WorkingDir string // the Terraform configuration
	DataDir    string // absolute TF_DATA_DIR
}

// BackendFile is the generated -backend-config file.
func (l Layout) BackendFile() string { return filepath.Join(l.DataDir, "challengectl-backend.hcl") }

// VarFile is the generated -var-file.
func (l Layout) VarFile() string { return filepath.Join(l.DataDir, "challengectl.tfvars.json") }

// PlanFile is where `plan -out` writes.
func (l Layout) PlanFile() string { return filepath.Join(l.DataDir, "challengectl.tfplan") }

// Invocation is one Terraform command as challengectl builds it: the
// subcommand, the flags challengectl chooses and the environment it adds.
// terraform-exec adds its own fixed flags (-no-color, -input=false, ...);
// Flags are the ones that carry our decisions, and tests check that each of
// them reaches the real command line.
type Invocation struct {
	Command string
	Flags   []string
	Env     map[string]string
}

// Args is the argv after the binary name (without terraform-exec's fixed flags).
func (i Invocation) Args() []string { return append([]string{i.Command}, i.Flags...) }

// String renders the invocation for logs: env keys sorted, then argv.
func (i Invocation) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(i.Env)) {
		parts = append(parts, k+"="+i.Env[k])
	}
	return strings.TrimSpace(strings.Join(parts, " ") + " terraform " + strings.Join(i.Args(), " "))
}

func lockTimeoutFlag(d time.Duration) string {
	return "-lock-timeout=" + lockTimeoutValue(d)
}

func lockTimeoutValue(d time.Duration) string {
	return fmt.Sprintf("%ds", int((d+time.Second-1)/time.Second))
}

// initInvocation: -reconfigure because the backend settings come from
// challengectl every time (a changed bucket or key must never trigger a
// state migration prompt), and the backend file carries them.
func (d *Driver) initInvocation() (Invocation, []tfexec.InitOption) {
	inv := Invocation{Command: "init", Flags: []string{
		"-backend-config=" + d.layout.BackendFile(),
		"-reconfigure",
	}, Env: d.childEnvDelta()}
	return inv, []tfexec.InitOption{
		tfexec.BackendConfig(d.layout.BackendFile()),
		tfexec.Reconfigure(true),
	}
}

func (d *Driver) planInvocation(destroy bool) (Invocation, []tfexec.PlanOption) {
	flags := []string{
		lockTimeoutFlag(d.cfg.LockTimeout),
		"-out=" + d.layout.PlanFile(),
		"-var-file=" + d.layout.VarFile(),
	}
	opts := []tfexec.PlanOption{
		tfexec.LockTimeout(lockTimeoutValue(d.cfg.LockTimeout)),
		tfexec.Out(d.layout.PlanFile()),
		tfexec.VarFile(d.layout.VarFile()),
	}
	if destroy {
		flags = append(flags, "-destroy")
		opts = append(opts, tfexec.Destroy(true))
	}
	return Invocation{Command: "plan", Flags: flags, Env: d.childEnvDelta()}, opts
}

// applyInvocation applies the saved plan: exactly what was shown and
// confirmed, nothing re-planned in between. Variables are inside the plan.
func (d *Driver) applyInvocation() (Invocation, []tfexec.ApplyOption) {
	return Invocation{Command: "apply", Flags: []string{
			lockTimeoutFlag(d.cfg.LockTimeout),
			"-json",
			d.layout.PlanFile(),
		}, Env: d.childEnvDelta()}, []tfexec.ApplyOption{
			tfexec.LockTimeout(lockTimeoutValue(d.cfg.LockTimeout)),
			tfexec.DirOrPlan(d.layout.PlanFile()),
		}
}

func (d *Driver) importInvocation(addr, id string) (Invocation, []tfexec.ImportOption) {
	return Invocation{Command: "import", Flags: []string{
			lockTimeoutFlag(d.cfg.LockTimeout),
			"-var-file=" + d.layout.VarFile(),
			addr, id,
		}, Env: d.childEnvDelta()}, []tfexec.ImportOption{
			tfexec.LockTimeout(lockTimeoutValue(d.cfg.LockTimeout)),
			tfexec.VarFile(d.layout.VarFile()),
		}
}

// ImportArgs is the `terraform import` command a user can run by hand to
// adopt an existing resource, with the same data dir and var file.
func (d *Driver) ImportArgs(addr, id string) []string {
	inv, _ := d.importInvocation(addr, id)
	return append([]string{"TF_DATA_DIR=" + d.layout.DataDir, filepath.Base(d.bin.Path), "-chdir=" + d.layout.WorkingDir}, inv.Args()...)
}

// childEnvDelta is what the driver adds to the inherited environment.
func (d *Driver) childEnvDelta() map[string]string {
	env := map[string]string{"TF_DATA_DIR": d.layout.DataDir}
	if r := d.cfg.Backend.Region; r != "" {
		env["AWS_REGION"] = r
	}
	if d.cfg.Backend.Profile != "" {
		env["AWS_PROFILE"] = d.cfg.Backend.Profile
	}
	// An emulator takes any credentials; without them the AWS SDK inside
	// Terraform would fail before the first request. Real credentials from
	// the environment are left alone.
	if d.cfg.Backend.EndpointURL != "" && d.cfg.Backend.Profile == "" && d.getenv("AWS_ACCESS_KEY_ID") == "" {
		env["AWS_ACCESS_KEY_ID"] = "test"
		env["AWS_SECRET_ACCESS_KEY"] = "test"
	}
	for k, v := range d.cfg.Env {
		env[k] = v
	}
	return env
}

func (d *Driver) getenv(k string) string {
	if d.cfg.Getenv != nil {
		return d.cfg.Getenv(k)
	}
	return os.Getenv(k)
}
