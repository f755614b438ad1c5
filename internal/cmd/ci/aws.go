package ci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/challengectl/challengectl/internal/ci"
	"github.com/challengectl/challengectl/internal/clierr"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/pipeline"
)

// AWSOptions are the flags of the aws target: the state flags shared with
// deploy, plus the bootstrap and apply switches.
type AWSOptions struct {
	State       deploycmd.StateFlags
	KMSKeyID    string
	Arch        string
	AutoApprove bool
}

func addAWSFlags(fl *pflag.FlagSet, o *AWSOptions) {
	o.State.Register(fl)
	fl.StringVar(&o.KMSKeyID, "kms-key-id", "", "KMS key for the state backend's encryption (default SSE-S3)")
	fl.StringVar(&o.Arch, "arch", "arm64", "Lambda architecture: arm64 or amd64")
	fl.BoolVar(&o.AutoApprove, "auto-approve", false, "apply without asking (required without a terminal)")
}

func awsSteps(ctx context.Context, o *Options, load ci.LoadSettings) ([]pipeline.Step, *ci.State, error) {
	f := o.Factory
	if _, err := lambdabuild.NormalizeArch(o.AWS.Arch); err != nil {
		return nil, nil, err
	}
	if !o.AWS.AutoApprove && !f.IOStreams.CanPrompt() {
		return nil, nil, clierr.Usage("--auto-approve", "no terminal to confirm the apply", "pass --auto-approve to apply without asking")
	}
	// Every input is checked here, before the first step creates anything.
	d, err := o.AWS.State.DeployOptions(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	d.Limits = limits.Default()
	d.AutoApprove = o.AWS.AutoApprove
	if !d.AutoApprove {
		d.Confirm = func(s deploy.PlanSummary) (bool, error) {
			return deploycmd.Confirm(ctx, f.IOStreams.In, f.IOStreams.ErrOut,
				fmt.Sprintf("Apply %s to stage %s?", s.Planned(), d.Stage))
		}
	}
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	work, err := os.MkdirTemp("", "challengectl-ci-")
	if err != nil {
		return nil, nil, fmt.Errorf("create build folder: %w", err)
	}
	steps, st := ci.AWSSteps(ci.AWSOptions{
		AWSConfig:    cfg,
		Deploy:       d,
		KMSKeyID:     o.AWS.KMSKeyID,
		PackagePath:  filepath.Join(work, "package.zip"),
		Arch:         o.AWS.Arch,
		SmokeTimeout: o.SmokeTimeout,
		Load:         load,
		Logger:       f.Logger(),
		Cleanup:      func() { os.RemoveAll(work) },
	})
	return steps, st, nil
}
