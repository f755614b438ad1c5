// Package outputs implements `challengectl outputs`.
package outputs

import (
	"context"

	"github.com/spf13/cobra"

	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
)

// Options of the outputs command.
type Options struct {
	Factory     *factory.Factory
	State       deploycmd.StateFlags
	ShowSecrets bool
}

// NewCmdOutputs builds the command; runF replaces the run in flag tests.
func NewCmdOutputs(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "outputs",
		Short: "Print the current stage's Terraform outputs (api_url, api_key masked unless --show-secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return outputsRun(cmd.Context(), opts)
		},
	}
	opts.State.Register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the API key instead of its mask")
	return cmd
}

func outputsRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	o, err := opts.State.DeployOptions(ctx, f)
	if err != nil {
		return err
	}
	outs, err := deploy.Outputs(ctx, o)
	if err != nil {
		return err
	}
	m := deploycmd.DisplayOutputs(f, outs, opts.ShowSecrets)
	if f.JSON() {
		return render.JSON(f.IOStreams.Out, m)
	}
	return deploycmd.WriteOutputs(f.IOStreams.Out, m)
}
