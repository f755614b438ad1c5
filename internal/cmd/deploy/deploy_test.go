package deploy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

func TestNewCmdDeployFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.New(ios, factory.BuildInfo{})
	var got *Options
	cmd := NewCmdDeploy(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--bucket", "b", "--key", "k", "--table", "t", "--package", "p.zip", "--arch", "amd64",
		"--auto-approve", "--plan-only", "--allow-replace", "--adopt", "--lock-timeout", "5s",
		"--terraform-dir", "tf", "--terraform-bin", "/opt/tofu", "--show-secrets"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := Options{Factory: f, State: StateFlags{Bucket: "b", Key: "k", Table: "t", TerraformDir: "tf", TerraformBin: "/opt/tofu", LockTimeout: 5 * time.Second},
		Package: "p.zip", Arch: "amd64", AutoApprove: true, PlanOnly: true, AllowReplace: true, Adopt: true, ShowSecrets: true}
	if *got != want {
		t.Errorf("options = %+v\nwant %+v", *got, want)
	}

	got = nil
	cmd = NewCmdDeploy(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Arch != "arm64" || got.State.LockTimeout != 60*time.Second || got.AutoApprove {
		t.Errorf("defaults = %+v", *got)
	}
}

func TestOutputNamesOrder(t *testing.T) {
	m := map[string]string{"zeta": "", "stage": "", "api_key": "", "api_url": "", "alpha": ""}
	got := OutputNames(m)
	want := []string{"api_url", "api_key", "stage", "alpha", "zeta"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

func TestConfirm(t *testing.T) {
	ctx := context.Background()
	for in, want := range map[string]bool{"yes\n": true, "y\n": true, "YES\n": true, "no\n": false, "\n": false, "yess\n": false} {
		var out bytes.Buffer
		got, err := Confirm(ctx, strings.NewReader(in), &out, "Apply?")
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
		if !strings.Contains(out.String(), "Only 'yes' will be accepted") {
			t.Errorf("prompt = %q", out.String())
		}
	}
	// Ctrl-C while waiting for an answer that never comes.
	r, w := io.Pipe()
	defer w.Close()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Confirm(cctx, r, io.Discard, "Apply?"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prompt: %v", err)
	}
}
