package localapi

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/challengectl/challengectl/internal/lambdabuild"
)

// buildFunction compiles the project's lambda/ for this machine into out,
// with the same build package (flags, reproducibility) as `challengectl
// build`. Errors are lambdabuild's: *lambdabuild.CompileError,
// *lambdabuild.ToolchainError, or a usage error naming --project-dir.
func buildFunction(ctx context.Context, projectDir, out string) error {
	if projectDir == "" {
		return errors.New("local: no project directory to build lambda/ from (set ProjectDir or BinaryPath)")
	}
	_, err := lambdabuild.Build(ctx, lambdabuild.Options{
		ProjectDir: projectDir,
		Arch:       lambdabuild.HostArch(),
		GOOS:       runtime.GOOS,
		BinaryPath: out,
	})
	if err != nil {
		return fmt.Errorf("local: build lambda/ for this machine: %w", err)
	}
	return nil
}
