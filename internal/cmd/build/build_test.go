package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/testtools"
)

// testFactory is factory.Test working in workDir.
func testFactory(workDir string) (*factory.Factory, *iostreams.Buffer, *iostreams.Buffer) {
	f, out, errOut := factory.Test(nil)
	f.WorkDir = workDir
	return f, out, errOut
}

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	f, _, _ := testFactory(t.TempDir())
	var got *Options
	cmd := NewCmdBuild(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		arch, out string
	}{
		{nil, "arm64", ""},
		{[]string{"--arch", "amd64"}, "amd64", ""},
		{[]string{"--arch", "x86_64"}, "amd64", ""},
		{[]string{"--arch", "arm64", "--out", "/tmp/p.zip"}, "arm64", "/tmp/p.zip"},
		{[]string{"--out", "rel/p.zip"}, "arm64", "rel/p.zip"},
	} {
		o, err := parse(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.Arch != tc.arch || o.Out != tc.out {
			t.Errorf("%v: options %+v, want arch %s out %q", tc.args, o, tc.arch, tc.out)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{[]string{"--arch", "386"}, "--arch"},
		{[]string{"--arch", ""}, ""}, // empty means the default: not an error
		{[]string{"--out", " "}, "--out"},
	} {
		_, err := parse(t, tc.args...)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
			continue
		}
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != tc.field {
			t.Errorf("%v: err = %v, want a usage error on %s", tc.args, err, tc.field)
		}
	}
	if _, err := parse(t, "extra"); err == nil {
		t.Error("a positional argument was accepted")
	}
}

// TestBuildRunText builds the real lambda/ into a relative --out and checks
// the text output against the file on disk.
func TestBuildRunText(t *testing.T) {
	testtools.GoToolchain(t)
	work := t.TempDir()
	f, out, errOut := testFactory(work)
	f.Globals.ProjectDir = testtools.ModuleRoot(t)
	err := buildRun(context.Background(), &Options{Factory: f, Arch: "arm64", Out: filepath.Join("dist", "p.zip")})
	if err != nil {
		t.Fatal(err)
	}
	zp := filepath.Join(work, "dist", "p.zip")
	data, err := os.ReadFile(zp)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	for _, re := range []string{
		`(?m)^path\s+` + regexp.QuoteMeta(zp) + `$`,
		`(?m)^size\s+` + strconv.Itoa(len(data)) + ` bytes \(\d+\.\d MiB\)$`,
		`(?m)^sha256\s+` + hex.EncodeToString(sum[:]) + `$`,
		`(?m)^arch\s+arm64$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("stdout does not match %s:\n%s", re, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "building the Lambda") {
		t.Errorf("no progress on stderr: %q", errOut.String())
	}
}

func TestBuildRunJSON(t *testing.T) {
	testtools.GoToolchain(t)
	f, out, _ := testFactory(t.TempDir())
	f.Globals.ProjectDir = testtools.ModuleRoot(t)
	f.Globals.Output = "json"
	zp := filepath.Join(t.TempDir(), "x.zip")
	if err := buildRun(context.Background(), &Options{Factory: f, Arch: "amd64", Out: zp}); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Fatal("more than one JSON document on stdout")
	}
	data, _ := os.ReadFile(zp)
	sum := sha256.Sum256(data)
	want := map[string]any{
		"path":             zp,
		"size":             float64(len(data)),
		"sha256":           hex.EncodeToString(sum[:]),
		"arch":             "amd64",
		"source_code_hash": base64.StdEncoding.EncodeToString(sum[:]),
	}
	if len(doc) != len(want) {
		t.Errorf("fields %v, want %v", doc, want)
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
}

// TestBuildRunCompileError: a broken lambda/ fails with exit 1, says what
// the compiler said, and leaves no zip behind.
func TestBuildRunCompileError(t *testing.T) {
	testtools.GoToolchain(t)
	proj := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":         "module example.com/broken\n\ngo 1.22\n",
		"lambda/main.go": "package main\n\nfunc main() { nope() }\n",
		"terraform/x.tf": "",
	} {
		p := filepath.Join(proj, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zp := filepath.Join(proj, DefaultOut)
	_ = os.MkdirAll(filepath.Dir(zp), 0o755)
	_ = os.WriteFile(zp, []byte("old"), 0o644)

	f, out, errOut := testFactory(proj)
	err := buildRun(context.Background(), &Options{Factory: f, Arch: "arm64"})
	var ce *lambdabuild.CompileError
	if !errors.As(err, &ce) || clierr.ExitCode(err, false) != clierr.ExitFailure {
		t.Fatalf("err = %v, want a compile error (exit 1)", err)
	}
	if !strings.Contains(err.Error(), "undefined: nope") {
		t.Errorf("error lacks the compiler output: %v", err)
	}
	if _, statErr := os.Stat(zp); !errors.Is(statErr, os.ErrNotExist) {
		t.Error("the old zip survived a failed build")
	}
	if out.Len() != 0 {
		t.Errorf("stdout on failure: %q", out.String())
	}
	if !strings.Contains(errOut.String(), "removed the package of an earlier build") {
		t.Errorf("the removal is not reported: %q", errOut.String())
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 4<<20 + 512<<10: "4.5 MiB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
