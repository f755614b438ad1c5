package tfdriver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"

	"github.com/challengectl/challengectl/internal/testtools"
)

// recorder keeps the command lines terraform-exec reports running.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.Contains(rec.Message, "running Terraform command:") {
		r.lines = append(r.lines, rec.Message)
	}
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) find(sub string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

const fixture = `
terraform {
  backend "s3" {}
}
variable "region" { type = string }
variable "greeting" { type = string }
resource "terraform_data" "a" {
  input = var.greeting
}
output "greeting" { value = terraform_data.a.output }
output "secret" {
  value     = "s3cr3t-${var.greeting}"
  sensitive = true
}
`

// TestDriverOnKumo runs init, plan, apply and output with real OpenTofu on
// kumo's S3 backend and checks that every flag the driver decides on reaches
// the real command line, and that variables travel only in the var file.
func TestDriverOnKumo(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	ctx := context.Background()
	b, wd := kumoBackend(t)
	bin, err := Find(ctx, FindOptions{Explicit: tofu})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	d, err := New(Config{Binary: bin, WorkingDir: wd, Stage: "dev", Backend: b, LockTimeout: 5 * time.Second,
		Getenv: func(string) string { return "" }, Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteVars(map[string]any{"region": "us-east-1", "greeting": "hello-from-var-file"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasChanges || p.Summary != (PlanSummary{Add: 1}) || p.StateHasResources() {
		t.Fatalf("plan = %+v", p)
	}
	var progress []string
	if err := d.Apply(ctx, p, func(done, total int) { progress = append(progress, fmt.Sprintf("%d/%d", done, total)) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(progress, " ") != "0/1 1/1" {
		t.Errorf("progress = %v", progress)
	}
	outs, err := d.Outputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if outs["greeting"].String() != "hello-from-var-file" || !outs["secret"].Sensitive || outs["greeting"].Sensitive {
		t.Errorf("outputs = %+v", outs)
	}

	for cmd, inv := range map[string]Invocation{"init": first(d.initInvocation()), "plan": first(d.planInvocation(false)), "apply": first(d.applyInvocation())} {
		line := rec.find(" " + cmd + " ")
		if line == "" {
			t.Errorf("no %s command recorded", cmd)
			continue
		}
		for _, flag := range inv.Flags {
			if !strings.Contains(line, " "+flag) {
				t.Errorf("%s: flag %q missing from the real command line: %s", cmd, flag, line)
			}
		}
	}
	rec.mu.Lock()
	for _, l := range rec.lines {
		if strings.Contains(l, "hello-from-var-file") {
			t.Errorf("a variable value reached argv: %s", l)
		}
	}
	rec.mu.Unlock()

	// The state is in the stage's data dir's backend, not in wd.
	if _, err := os.Stat(filepath.Join(wd, "terraform.tfstate")); err == nil {
		t.Error("a local terraform.tfstate was written")
	}
	if _, err := os.Stat(filepath.Join(wd, ".terraform-dev", "terraform.tfstate")); err != nil {
		t.Errorf("backend settings not in the stage's data dir: %v", err)
	}
}

func first[T any, U any](t T, _ U) T { return t }

// TestTerraform160BackendSettingsOnKumo: the backend file written for
// Terraform 1.6.0 (no skip_requesting_account_id, which 1.6.0 rejects) makes
// the backend look the account ID up, as 1.6.0 always does (IAM GetUser,
// then STS GetCallerIdentity, in aws-sdk-go-base). Run with OpenTofu, which
// shares that lookup, it must still init and plan against kumo, quickly,
// with every call on the emulator.
func TestTerraform160BackendSettingsOnKumo(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	ctx := context.Background()
	b, wd := kumoBackend(t)
	bin := &Binary{Path: tofu, Version: version.Must(version.NewVersion("1.6.0")), Source: "flag"}
	d, err := New(Config{Binary: bin, WorkingDir: wd, Stage: "dev", Backend: b, LockTimeout: 5 * time.Second, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(d.Layout().BackendFile()); strings.Contains(string(raw), "skip_requesting_account_id") {
		t.Fatalf("backend file for 1.6.0:\n%s", raw)
	}
	if err := d.WriteVars(map[string]any{"region": "us-east-1", "greeting": "old"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := d.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Plan(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Off the emulator the IAM lookup would wait on real AWS and its retries.
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("init and plan took %v", el)
	}
}

// kumoBackend starts kumo with a fresh state bucket and lock table and
// returns the backend settings and a working directory holding the fixture
// configuration.
func kumoBackend(t *testing.T) (Backend, string) {
	t.Helper()
	sb := testtools.NewStateBackend(t)
	b := Backend{Bucket: sb.Bucket, Key: "app/dev/terraform.tfstate", Region: "us-east-1", Table: sb.Table, EndpointURL: sb.URL}
	wd := t.TempDir()
	if err := os.WriteFile(filepath.Join(wd, "main.tf"), []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	return b, wd
}
