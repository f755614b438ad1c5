// Package lambdatest builds the test Lambda of testdata/testfn for the tests
// of lambdaruntime, gateway and localapi. Only tests import it.
package lambdatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// TestFunction builds testdata/testfn once per test binary and returns the
// path of the executable: a real aws-lambda-go bootstrap.
func TestFunction(t testing.TB) string {
	t.Helper()
	goBin := testtools.GoToolchain(t)
	root := testtools.ModuleRoot(t)
	once.Do(func() {
		dir, e := os.MkdirTemp("", "challengectl-testfn-")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(dir, "bootstrap")
		cmd := exec.Command(goBin, "build", "-o", path, "./internal/lambdaruntime/testdata/testfn")
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build test function: %v\n%s", err, out)
	}
	return path
}
