// Package testtools finds the pinned test tools (tofu, aws-lambda-rie, kumo)
// that `make tools` builds into .bin/, and starts in-process emulators.
// A test that needs a missing tool is skipped with the command that builds
// it, unless CHALLENGECTL_REQUIRE_TOOLS=1 (set by `make test` and CI), where
// it fails. Only tests import this package.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sivchari/kumo"
)

// Dir returns the folder holding the built tools: CHALLENGECTL_TOOLS_DIR, or
// .bin/ at the root of this module.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CHALLENGECTL_TOOLS_DIR"); d != "" {
		return d
	}
	return filepath.Join(ModuleRoot(t), ".bin")
}

// ModuleRoot walks up from the test's working directory to the go.mod of
// the challengectl module.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "cmd", "challengectl")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testtools: cannot find the challengectl module root")
		}
		dir = parent
	}
}

// Required reports whether missing tools must fail the test.
func Required() bool { return os.Getenv("CHALLENGECTL_REQUIRE_TOOLS") == "1" }

// Path returns the path of the named tool, skipping (or failing under
// CHALLENGECTL_REQUIRE_TOOLS=1) when it has not been built.
func Path(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(t), name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	Missing(t, name+" is not built in "+Dir(t)+"; run `make tools`")
	return ""
}

// Missing skips, or fails when tools are required, with msg.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatal(msg + " (CHALLENGECTL_REQUIRE_TOOLS=1)")
	}
	t.Skip(msg)
}

// GoToolchain returns the go binary or skips when none is on PATH.
func GoToolchain(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		Missing(t, "go toolchain not on PATH")
	}
	return p
}

// Kumo starts kumo in-process (S3, DynamoDB, STS, IAM, Lambda, API Gateway
// control planes) and stops it when the test ends. It returns its URL.
func Kumo(t testing.TB) string {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	return srv.URL
}
