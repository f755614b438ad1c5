package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/statebackend"
	"github.com/challengectl/challengectl/internal/testtools"
)

// Flag parsing only: runF captures the options, nothing runs.
func TestNewCmdBootstrapFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want Options
	}{
		{"flags", []string{"--bucket", "b1", "--table", "t1", "--kms-key-id", "alias/x", "--dry-run"}, nil,
			Options{Bucket: "b1", Table: "t1", KMSKeyID: "alias/x", DryRun: true}},
		{"env", nil, map[string]string{"TF_STATE_BUCKET": "envb", "TF_STATE_TABLE": "envt"},
			Options{Bucket: "envb", Table: "envt"}},
		{"flags win over env", []string{"--bucket", "flagb"}, map[string]string{"TF_STATE_BUCKET": "envb", "TF_STATE_TABLE": "envt"},
			Options{Bucket: "flagb", Table: "envt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _ := factory.Test(tc.env)
			var got *Options
			cmd := NewCmdBootstrap(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.Bucket != tc.want.Bucket || got.Table != tc.want.Table || got.KMSKeyID != tc.want.KMSKeyID || got.DryRun != tc.want.DryRun {
				t.Errorf("options = %+v, want %+v", *got, tc.want)
			}
		})
	}
	f, _, _ := factory.Test(nil)
	cmd := NewCmdBootstrap(f, func(*Options) error { t.Fatal("ran with a positional argument"); return nil })
	cmd.SetArgs([]string{"extra"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err == nil {
		t.Error("positional argument accepted")
	}
}

func runWith(t *testing.T, f *factory.Factory, o Options) error {
	t.Helper()
	o.Factory = f
	return bootstrapRun(context.Background(), &o)
}

// suffix makes names unique per run: every kumo server in a process shares
// one store, and -count=N reruns the tests.
func suffix() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

func TestBootstrapRunTextAndJSON(t *testing.T) {
	url := testtools.Kumo(t)
	bucket, table := "cmd-text-"+suffix(), "cmd-text-locks-"+suffix()
	f, out, errOut := factory.Test(nil)
	f.Globals.Region, f.Globals.EndpointURL, f.Globals.Stage = "eu-west-1", url, "staging"
	if err := runWith(t, f, Options{Bucket: bucket, Table: table}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"created      bucket: " + bucket + " in eu-west-1\n",
		"created      bucket versioning: Enabled\n",
		"skipped      bucket object-ownership: the emulator does not implement",
		"    -backend-config=key=challenge-api/staging/terraform.tfstate \\\n",
		"    -backend-config=region=eu-west-1 \\\n",
		"  TF_STATE_KEY=challenge-api/staging/terraform.tfstate\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(errOut.String(), "warning: bucket object-ownership not checked") {
		t.Errorf("no warning on stderr:\n%s", errOut.String())
	}

	// Second run, JSON: one document, no change.
	f, out, _ = factory.Test(nil)
	f.Globals.Region, f.Globals.EndpointURL, f.Globals.Stage, f.Globals.Output = "eu-west-1", url, "staging", "json"
	if err := runWith(t, f, Options{Bucket: bucket, Table: table}); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	var doc struct {
		Bucket        string
		Changed       bool
		Created       bool
		Changes       []statebackend.Change
		Backend       statebackend.Backend
		InitArgs      []string          `json:"init_args"`
		GitHubSecrets map[string]string `json:"github_secrets"`
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Fatalf("more than one JSON document on stdout:\n%s", out.String())
	}
	if doc.Changed || doc.Created || doc.Bucket != bucket || len(doc.Changes) == 0 {
		t.Errorf("doc = %+v", doc)
	}
	if doc.Backend.Key != "challenge-api/staging/terraform.tfstate" || doc.GitHubSecrets["TF_STATE_TABLE"] != table || doc.GitHubSecrets["AWS_REGION"] != "eu-west-1" {
		t.Errorf("backend = %+v secrets = %v", doc.Backend, doc.GitHubSecrets)
	}
	if doc.InitArgs[0] != "-backend-config=bucket="+bucket {
		t.Errorf("init args = %v", doc.InitArgs)
	}
}

func TestBootstrapRunBadInputIsUsageError(t *testing.T) {
	url := testtools.Kumo(t)
	good, locks := "cmd-bad-input-"+suffix(), "cmd-locks-"+suffix()
	cases := map[string]struct {
		region string
		o      Options
		field  string
	}{
		"bucket":         {"us-east-1", Options{Bucket: "UPPER", Table: locks}, "--bucket"},
		"table":          {"us-east-1", Options{Bucket: good, Table: "x"}, "--table"},
		"no region":      {"", Options{Bucket: good, Table: locks}, "--region"},
		"bad region":     {"useast1", Options{Bucket: good, Table: locks}, "--region"},
		"missing bucket": {"us-east-1", Options{Table: locks}, "--bucket"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// The SDK reads the region from the process environment and
			// shared config too: none of the host's may leak in.
			t.Setenv("AWS_REGION", "")
			t.Setenv("AWS_DEFAULT_REGION", "")
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			f, out, _ := factory.Test(nil)
			f.Globals.Region, f.Globals.EndpointURL = tc.region, url
			err := runWith(t, f, tc.o)
			var u *clierr.UsageError
			if !errors.As(err, &u) || u.Field != tc.field || clierr.ExitCode(err, false) != clierr.ExitUsage {
				t.Fatalf("err = %v, want a usage error on %s", err, tc.field)
			}
			if out.Len() != 0 {
				t.Errorf("stdout on bad input: %s", out.String())
			}
		})
	}
	// Nothing was created by any of them.
	f, out, _ := factory.Test(nil)
	f.Globals.Region, f.Globals.EndpointURL = "us-east-1", url
	if err := runWith(t, f, Options{Bucket: good, Table: locks, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would-create bucket: "+good) || !strings.Contains(out.String(), "would-create table: "+locks) {
		t.Errorf("something was created by bad input:\n%s", out.String())
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"-backend-config=bucket=a.b-c":       "-backend-config=bucket=a.b-c",
		`-backend-config=endpoints={s3="u"}`: `'-backend-config=endpoints={s3="u"}'`,
		"it's":                               `'it'\''s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
