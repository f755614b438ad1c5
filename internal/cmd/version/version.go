// Package version implements `challengectl version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
)

// Options of the version command.
type Options struct {
	Factory *factory.Factory
}

// NewCmdVersion builds the command; runF replaces the run in flag tests.
func NewCmdVersion(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *Options) error {
	f := opts.Factory
	if f.JSON() {
		return render.JSON(f.IOStreams.Out, f.Build)
	}
	_, err := fmt.Fprintf(f.IOStreams.Out, "challengectl %s (commit %s, built %s)\n", f.Build.Version, f.Build.Commit, f.Build.Date)
	return err
}
