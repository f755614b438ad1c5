package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/challengectl/challengectl/internal/app"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/testtools"
	"github.com/challengectl/challengectl/internal/tfdriver"
)

// stage is a kumo backend, a copy of the deploy fixture and the CLI
// arguments that point at them.
type stage struct {
	env    map[string]string
	args   []string
	db     *dynamodb.Client
	table  string
	lockID string
	pkg    string
}

func newStage(t *testing.T, extra string) *stage {
	t.Helper()
	tofu := testtools.Path(t, "tofu")
	sb := testtools.NewStateBackend(t)
	url, bucket, table := sb.URL, sb.Bucket, sb.Table
	db := dynamodb.NewFromConfig(sb.Config)
	dir := t.TempDir()
	src := filepath.Join("..", "..", "deploy", "testdata", "stack")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		if err := os.WriteFile(filepath.Join(dir, "extra.tf"), []byte(extra), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkg := filepath.Join(t.TempDir(), "package.zip")
	if err := os.WriteFile(pkg, []byte("stand-in package"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &stage{
		env: map[string]string{"AWS_REGION": "us-east-1", "TF_STATE_BUCKET": bucket, "TF_STATE_TABLE": table,
			"CHALLENGECTL_ENDPOINT_URL": url, "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")},
		args:   []string{"--stage", "cli", "--terraform-dir", dir, "--terraform-bin", tofu},
		pkg:    pkg,
		db:     db,
		table:  table,
		lockID: bucket + "/challenge-api/cli/terraform.tfstate",
	}
}

func (s *stage) run(t *testing.T, ctx context.Context, tty bool, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	ios.SetTTY(tty)
	in.WriteString(stdin)
	f := factory.New(ios, factory.BuildInfo{Version: "test"})
	f.Getenv = func(k string) string { return s.env[k] }
	args = append(args, s.args...)
	if args[0] == "deploy" {
		args = append(args, "--package", s.pkg)
	}
	code = app.Run(ctx, f, args)
	return code, out.String(), errOut.String()
}

// TestDeployConfirmation: on a terminal the plan is shown and only "yes"
// applies it; "no" changes nothing.
func TestDeployConfirmation(t *testing.T) {
	s := newStage(t, "")
	ctx := context.Background()
	code, out, errOut := s.run(t, ctx, true, "no\n", "deploy")
	if code != 1 || !strings.Contains(errOut, "Plan: 3 to add, 0 to change, 0 to destroy.") || !strings.Contains(errOut, "Only 'yes' will be accepted") {
		t.Fatalf("declined: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	code, _, errOut = s.run(t, ctx, false, "", "outputs")
	if code != 1 || !strings.Contains(errOut, "has no Terraform outputs") {
		t.Fatalf("after a declined plan the stage must not exist: %d %s", code, errOut)
	}
	code, out, errOut = s.run(t, ctx, true, "yes\n", "deploy")
	if code != 0 || !strings.Contains(out, "Apply complete: 3 added") {
		t.Fatalf("confirmed: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// The key is masked in text output and absent from stderr.
	_, secretOut, _ := s.run(t, ctx, false, "", "outputs", "--show-secrets", "-o", "json")
	key := between(secretOut, `"api_key": "`, `"`)
	if len(key) != 64 {
		t.Fatalf("api_key from --show-secrets: %q", secretOut)
	}
	if strings.Contains(out, key) || strings.Contains(errOut, key) {
		t.Error("the API key was printed without --show-secrets")
	}
	if !strings.Contains(out, key[:4]+"…") {
		t.Errorf("masked key missing from the deploy output:\n%s", out)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// TestDeployInterrupt: a real SIGINT during a slow apply. The CLI exits 130,
// Terraform stopped and released the lock, and no tofu or sleep process is
// left.
func TestDeployInterrupt(t *testing.T) {
	const sleep = 187
	s := newStage(t, fmt.Sprintf("resource \"terraform_data\" \"slow\" {\n  provisioner \"local-exec\" {\n    command = \"sleep %d\"\n  }\n}\n", sleep))
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := s.run(t, context.Background(), false, "", "deploy", "--auto-approve")
		done <- result{code, out, errOut}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		li, err := tfdriver.ReadLock(context.Background(), s.db, s.table, s.lockID)
		if err != nil {
			t.Fatal(err)
		}
		if li != nil && li.Operation == "OperationTypeApply" {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("deploy ended before applying: %d %s", r.code, r.errOut)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("apply did not take the lock within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("deploy did not stop within 90s of SIGINT")
	}
	t.Logf("stopped %v after SIGINT", time.Since(start).Round(time.Millisecond))
	if r.code != 130 {
		t.Fatalf("exit code %d, want 130\nstderr: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.errOut, "interrupted: stopping cleanly") {
		t.Errorf("stderr: %s", r.errOut)
	}
	if li, err := tfdriver.ReadLock(context.Background(), s.db, s.table, s.lockID); err != nil || li != nil {
		t.Errorf("lock after the interrupt: %+v %v", li, err)
	}
	if left := leftovers(fmt.Sprintf("sleep %d", sleep)); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
	// The next deploy does not wait for any lock.
	code, _, errOut := s.run(t, context.Background(), false, "", "deploy", "--plan-only", "--lock-timeout", "0s")
	if code != 0 {
		t.Errorf("plan after the interrupt: %d %s", code, errOut)
	}
}

// leftovers lists processes running tofu under this test, or the marker.
func leftovers(marker string) []string {
	me := os.Getpid()
	var out []string
	_ = fs.WalkDir(os.DirFS("/proc"), ".", func(p string, d fs.DirEntry, err error) error {
		if p == "." {
			return nil
		}
		if err != nil || !d.IsDir() {
			return fs.SkipDir
		}
		pid, convErr := strconv.Atoi(p)
		if convErr != nil {
			return fs.SkipDir
		}
		cmd, _ := os.ReadFile("/proc/" + p + "/cmdline")
		line := string(bytes.ReplaceAll(bytes.TrimRight(cmd, "\x00"), []byte{0}, []byte{' '}))
		stat, _ := os.ReadFile("/proc/" + p + "/stat")
		ppid := 0
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			var st byte
			fmt.Sscanf(string(stat[i+2:]), "%c %d", &st, &ppid)
		}
		if (ppid == me && strings.Contains(line, "tofu")) || strings.Contains(line, marker) {
			out = append(out, fmt.Sprintf("%d: %s", pid, line))
		}
		return fs.SkipDir
	})
	return out
}
