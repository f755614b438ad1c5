// Package destroy implements `challengectl destroy`.
package destroy

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
)

// Options of the destroy command.
type Options struct {
	Factory     *factory.Factory
	State       deploycmd.StateFlags
	AutoApprove bool
}

// NewCmdDestroy builds the command; runF replaces the run in flag tests.
func NewCmdDestroy(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Destroy everything Terraform manages for the current stage",
		Long: `Plans a destroy of the stage, shows what would go, asks for confirmation on a
terminal (--auto-approve otherwise) and applies it. The state bucket and the
lock table are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return destroyRun(cmd.Context(), opts)
		},
	}
	opts.State.Register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "destroy without asking (required without a terminal)")
	return cmd
}

func destroyRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	ios := f.IOStreams
	if !opts.AutoApprove && !ios.CanPrompt() {
		return clierr.Usage("--auto-approve", "no terminal to confirm the destroy on", "pass --auto-approve to destroy without a prompt")
	}
	o, err := opts.State.DeployOptions(ctx, f)
	if err != nil {
		return err
	}
	o.AutoApprove = opts.AutoApprove
	o.Confirm = func(s deploy.PlanSummary) (bool, error) {
		fmt.Fprintf(ios.ErrOut, "\nPlan: %s.\n", s.Planned())
		return deploycmd.Confirm(ctx, ios.In, ios.ErrOut, fmt.Sprintf("Destroy every resource of stage %s? There is no undo.", o.Stage))
	}
	log := o.Logger
	o.Progress = func(done, total int) {
		if done > 0 {
			log.Info(fmt.Sprintf("destroy: %d/%d", done, total))
		}
	}
	res, err := deploy.Destroy(ctx, o)
	if err != nil {
		return err
	}
	if f.JSON() {
		return render.JSON(ios.Out, struct {
			*deploy.DestroyResult
			Stage string `json:"stage"`
		}{res, o.Stage})
	}
	if !res.Destroyed {
		_, err = fmt.Fprintf(ios.Out, "Nothing to destroy: stage %s has no resources.\n", o.Stage)
		return err
	}
	_, err = fmt.Fprintf(ios.Out, "Destroy complete: %d destroyed (stage %s).\n", res.Summary.Destroy, o.Stage)
	return err
}
