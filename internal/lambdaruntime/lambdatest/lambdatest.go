// Package lambdatest builds the test Lambda of testdata/testfn for the tests
// of lambdaruntime, gateway, localapi and the local command. Only tests
// import it.
package lambdatest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

var (
	once sync.Once
	path string
	err  error
)

// TestFunction returns the path of testdata/testfn built as a real
// aws-lambda-go bootstrap. Builds are cached by content (the source, go.mod,
// go.sum and the toolchain) under the user cache directory, so test binaries
// share one build and leave no temporary copies behind.
func TestFunction(t testing.TB) string {
	t.Helper()
	goBin := testtools.GoToolchain(t)
	root := testtools.ModuleRoot(t)
	once.Do(func() { path, err = build(goBin, root) })
	if err != nil {
		t.Fatalf("build test function: %v", err)
	}
	return path
}

func build(goBin, root string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"internal/lambdaruntime/testdata/testfn/main.go", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	fmt.Fprint(h, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "challengectl-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(dir, "testfn-"+hex.EncodeToString(h.Sum(nil))[:16])
	if st, err := os.Stat(final); err == nil && st.Mode().IsRegular() {
		return final, nil
	}
	// Build under a unique name and rename: concurrent test binaries never
	// see a half-written executable.
	tmp := fmt.Sprintf("%s.%d.tmp", final, os.Getpid())
	cmd := exec.Command(goBin, "build", "-o", tmp, "./internal/lambdaruntime/testdata/testfn")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return final, nil
}
