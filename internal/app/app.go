// Package app runs the CLI: it wires signals, builds the command tree and
// turns the outcome into an exit code, in one place.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/cmd/root"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

// Build information, set with -ldflags "-X github.com/challengectl/challengectl/internal/app.version=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Main is the whole program: it returns the process exit code.
func Main() int {
	f := factory.New(iostreams.System(), factory.BuildInfo{Version: version, Commit: commit, Date: date})
	return Run(context.Background(), f, os.Args[1:])
}

// Run executes one invocation. SIGINT and SIGTERM cancel the context: the
// running command stops its children cleanly and returns, and the exit code is
// then 130.
func Run(ctx context.Context, f *factory.Factory, args []string) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var interrupted atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
			interrupted.Store(true)
			fmt.Fprintln(f.IOStreams.ErrOut, "interrupted: stopping cleanly (press Ctrl-C again to force)")
			cancel()
			// A second signal means the user wants out now.
			select {
			case <-sigs:
				os.Exit(clierr.ExitInterrupted)
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()

	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil && isCobraUsageError(err) {
		err = &clierr.UsageError{Msg: err.Error(), Fix: "see challengectl --help"}
	}
	code := clierr.ExitCode(err, interrupted.Load())
	// An interruption was announced when the signal came; repeating
	// "interrupted" or "context canceled" as an error adds nothing.
	quietStop := code == clierr.ExitInterrupted && (errors.Is(err, context.Canceled) || errors.Is(err, clierr.ErrInterrupted))
	if err != nil && !clierr.IsSilent(err) && !quietStop {
		fmt.Fprintf(f.IOStreams.ErrOut, "Error: %v\n", err)
	}
	return code
}

// isCobraUsageError recognises the argument errors cobra builds itself
// (unknown command, wrong number of arguments), which carry no type.
func isCobraUsageError(err error) bool {
	var u *clierr.UsageError
	if errors.As(err, &u) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "invalid argument", "unknown flag", "unknown shorthand flag", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}
