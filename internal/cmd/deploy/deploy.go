// Package deploy implements `challengectl deploy`, and holds the flags and
// rendering the other state commands (outputs, destroy, unlock) share.
package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
)

// Options of the deploy command.
type Options struct {
	Factory *factory.Factory
	State   StateFlags

	Package      string
	Arch         string
	AutoApprove  bool
	PlanOnly     bool
	AllowReplace bool
	Adopt        bool
	ShowSecrets  bool
}

// NewCmdDeploy builds the command; runF replaces the run in flag tests.
func NewCmdDeploy(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Plan and apply the Terraform configuration of one stage, then print its outputs",
		Long: `Builds the Lambda package (unless --package), finds Terraform ≥ 1.6 or OpenTofu,
runs init with the S3 backend and DynamoDB lock, plans, refuses a plan that would
create or replace the Lambda function or the REST API of an existing stage
(unless --allow-replace), asks for confirmation on a terminal (--auto-approve
in CI), applies, and prints the outputs with the API key masked.

Variables reach Terraform through a generated var file, never through argv.`,
		Example: `  challengectl deploy --bucket my-tfstate --table my-tflock --auto-approve
  TF_STATE_BUCKET=my-tfstate TF_STATE_TABLE=my-tflock challengectl deploy --plan-only
  challengectl deploy --adopt     # take over a function created outside Terraform`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return deployRun(cmd.Context(), opts)
		},
	}
	opts.State.Register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&opts.Package, "package", "", "deploy this zip instead of building lambda/")
	fl.StringVar(&opts.Arch, "arch", "arm64", "Lambda architecture: arm64 or amd64")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking (required without a terminal)")
	fl.BoolVar(&opts.PlanOnly, "plan-only", false, "stop after the plan and the replacement guard")
	fl.BoolVar(&opts.AllowReplace, "allow-replace", false, "apply even if the plan creates or replaces the function or the REST API of an existing stage")
	fl.BoolVar(&opts.Adopt, "adopt", false, "import a Lambda function (and its API Gateway permission) that exists in AWS but not in the state")
	fl.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the API key instead of its mask")
	return cmd
}

func deployRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	ios := f.IOStreams
	if opts.Arch != "arm64" && opts.Arch != "amd64" {
		return clierr.Usage("--arch", fmt.Sprintf("%q is not a Lambda architecture", opts.Arch), "use arm64 or amd64")
	}
	if !opts.AutoApprove && !opts.PlanOnly && !ios.CanPrompt() {
		return clierr.Usage("--auto-approve", "no terminal to confirm the plan on", "pass --auto-approve to apply without a prompt, or --plan-only to only plan")
	}
	o, err := opts.State.DeployOptions(ctx, f)
	if err != nil {
		return err
	}
	o.PackagePath = opts.Package
	o.Arch = opts.Arch
	o.AutoApprove, o.PlanOnly, o.AllowReplace, o.Adopt = opts.AutoApprove, opts.PlanOnly, opts.AllowReplace, opts.Adopt
	log := o.Logger
	o.Confirm = func(s deploy.PlanSummary) (bool, error) {
		fmt.Fprintf(ios.ErrOut, "\nPlan: %s.\n", s.Planned())
		return Confirm(ctx, ios.In, ios.ErrOut, fmt.Sprintf("Apply these changes to stage %s?", o.Stage))
	}
	o.Progress = func(done, total int) {
		if done > 0 {
			log.Info(fmt.Sprintf("apply: %d/%d", done, total))
		}
	}
	if err := o.Validate(); err != nil {
		return err
	}
	res, err := deploy.Run(ctx, o)
	if err != nil {
		if res != nil && len(res.Changes) > 0 && !f.JSON() {
			for _, c := range res.Changes {
				fmt.Fprintf(ios.ErrOut, "  %s %s\n", c.Action, c.Address)
			}
		}
		return err
	}
	outs := DisplayOutputs(f, res.Outputs, opts.ShowSecrets)
	if f.JSON() {
		return render.JSON(ios.Out, jsonResult{Result: res, Stage: o.Stage, Outputs: outs, ElapsedMS: res.Elapsed.Milliseconds()})
	}
	w := ios.Out
	switch {
	case opts.PlanOnly:
		for _, c := range res.Changes {
			fmt.Fprintf(w, "  %s %s\n", c.Action, c.Address)
		}
		fmt.Fprintf(w, "Plan: %s (not applied: --plan-only).\n", res.Summary.Planned())
		return nil
	case res.NoChanges:
		fmt.Fprintf(w, "No changes: stage %s is up to date.\n", o.Stage)
	default:
		fmt.Fprintf(w, "Apply complete: %s in %s.\n", res.Summary.Applied(), res.Elapsed.Round(100*time.Millisecond))
	}
	if len(res.Imported) > 0 {
		fmt.Fprintf(w, "Adopted: %v\n", res.Imported)
	}
	fmt.Fprintln(w)
	return WriteOutputs(w, outs)
}

type jsonResult struct {
	*deploy.Result
	Stage     string            `json:"stage"`
	Outputs   map[string]string `json:"outputs"`
	ElapsedMS int64             `json:"elapsed_ms"`
}
