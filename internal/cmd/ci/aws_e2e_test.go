package ci_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/challengectl/challengectl/internal/app"
	"github.com/challengectl/challengectl/internal/awsconfig"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/testtools"
)

// TestCIAWSTarget runs `ci --target aws` end to end with real components:
// bootstrap creates the state backend in kumo, build cross-compiles lambda/,
// deploy drives OpenTofu on kumo's S3 backend with the DynamoDB lock, and
// smoke and loadtest hit a live API: the local stack, whose URL and key the
// stand-in configuration outputs (the AWS provider cannot run here).
func TestCIAWSTarget(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	testtools.GoToolchain(t)
	root := testtools.ModuleRoot(t)
	kumoURL := testtools.Kumo(t)
	ctx := context.Background()

	stack, err := localapi.Start(ctx, localapi.Options{ProjectDir: root, Addr: "127.0.0.1:0", Stage: "prod", Limits: limits.Default(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Shutdown(context.Background())

	tfDir := t.TempDir()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "awsstack", "main.tf.tmpl")))
	f, err := os.Create(filepath.Join(tfDir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, map[string]string{"URL": stack.URL, "Key": stack.APIKey}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	bucket, table := "ci-e2e-state-"+strings.ToLower(t.Name()[:6]), "ci-e2e-locks"
	run := func(args ...string) (int, string, string) {
		ios, _, out, errOut := iostreams.Test()
		fac := &factory.Factory{IOStreams: ios, WorkDir: root, Build: factory.BuildInfo{Version: "test"},
			Getenv: func(k string) string {
				return map[string]string{"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}[k]
			}}
		base := []string{"ci", "--target", "aws", "--loadtest", "--auto-approve",
			"--region", "us-east-1", "--endpoint-url", kumoURL, "--bucket", bucket, "--table", table,
			"--terraform-dir", tfDir, "--terraform-bin", tofu, "--project-dir", root}
		code := app.Run(ctx, fac, append(base, args...))
		return code, out.String(), errOut.String()
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	code, out, errOut := run("-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var doc struct {
		Target string `json:"target"`
		Passed bool   `json:"passed"`
		APIURL string `json:"api_url"`
		Steps  []struct {
			Step, Status, Detail string
		} `json:"steps"`
		Loadtest struct {
			Throttle struct{ Observed int } `json:"throttle"`
		} `json:"loadtest"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	want := []string{"bootstrap", "build", "deploy", "smoke", "loadtest", "clean up"}
	if len(doc.Steps) != len(want) {
		t.Fatalf("steps %+v, want %v", doc.Steps, want)
	}
	for i, s := range doc.Steps {
		if s.Step != want[i] || s.Status != "ok" {
			t.Errorf("step %d = %s %s (%s), want %s ok", i, s.Step, s.Status, s.Detail, want[i])
		}
	}
	if !doc.Passed || doc.APIURL != stack.URL || doc.Loadtest.Throttle.Observed == 0 {
		t.Fatalf("summary: %+v", doc)
	}
	if strings.Contains(out+errOut, stack.APIKey) {
		t.Fatal("the API key appeared in the output")
	}

	// The state object landed at the per-stage key in the bucket bootstrap made.
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: "us-east-1", EndpointURL: kumoURL, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("challenge-api/prod/terraform.tfstate")}); err != nil {
		t.Fatalf("state object: %v", err)
	}

	// A second run: the backend is verified, the deployment has no change.
	code, out, errOut = run()
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, line := range []string{"verified, no change", "no changes"} {
		if !strings.Contains(out, line) {
			t.Errorf("second run summary lacks %q:\n%s", line, out)
		}
	}
}
