package localapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// buildFunction compiles the project's lambda/ for this machine into out.
// It is the one place to switch to internal/lambdabuild once that package
// lands (lambdabuild.Build with Arch: HostArch(), GOOS: runtime.GOOS).
func buildFunction(ctx context.Context, projectDir, out string) error {
	if projectDir == "" {
		return errors.New("local: no project directory to build lambda/ from (set ProjectDir or BinaryPath)")
	}
	if st, err := os.Stat(filepath.Join(projectDir, "lambda")); err != nil || !st.IsDir() {
		return fmt.Errorf("local: %s has no lambda/ directory to build", projectDir)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("local: building lambda/ needs the Go toolchain on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, "./lambda")
	cmd.Dir = projectDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	output, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &BuildError{Dir: projectDir, Output: strings.TrimSpace(string(output)), Err: err}
	}
	return nil
}

// BuildError is a failed build of lambda/, with the compiler's output.
type BuildError struct {
	Dir    string
	Output string
	Err    error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("build lambda/ in %s: %v\n%s", e.Dir, e.Err, e.Output)
}
func (e *BuildError) Unwrap() error { return e.Err }
