package ci

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/pipeline"
	"github.com/challengectl/challengectl/internal/statebackend"
)

// AWSOptions configure the aws pipeline.
type AWSOptions struct {
	AWSConfig aws.Config
	// Deploy locates the state and the configuration; the build step fills
	// PackagePath and Arch.
	Deploy   deploy.Options
	KMSKeyID string
	// PackagePath is where the build step writes the zip.
	PackagePath  string
	Arch         string // default arm64
	SmokeName    string
	SmokeTimeout time.Duration
	Load         LoadSettings
	Logger       *slog.Logger
	// Cleanup removes what the pipeline created locally (the build folder).
	Cleanup func()
}

// AWSSteps returns bootstrap → build → deploy → smoke → loadtest → clean up.
func AWSSteps(o AWSOptions) ([]pipeline.Step, *State) {
	st := &State{}
	log := orDiscard(o.Logger)
	d := o.Deploy
	steps := []pipeline.Step{
		pipeline.Described("bootstrap", func(ctx context.Context) (string, error) {
			rep, err := statebackend.Ensure(ctx, o.AWSConfig, statebackend.Options{
				Bucket:   d.Bucket,
				Table:    d.Table,
				Region:   d.Region,
				KMSKeyID: o.KMSKeyID,
				App:      d.App,
				Key:      d.Key,
				Emulated: d.EndpointURL != "",
				Logger:   log,
			})
			if err != nil {
				return "", err
			}
			st.Backend = rep
			switch {
			case rep.Created:
				return fmt.Sprintf("created s3://%s and table %s", rep.Bucket, rep.Table), nil
			case rep.Changed:
				return fmt.Sprintf("repaired s3://%s and table %s", rep.Bucket, rep.Table), nil
			}
			return fmt.Sprintf("s3://%s and table %s verified, no change", rep.Bucket, rep.Table), nil
		}),
		pipeline.Described("build", func(ctx context.Context) (string, error) {
			arch := o.Arch
			if arch == "" {
				arch = "arm64"
			}
			res, err := lambdabuild.Build(ctx, lambdabuild.Options{
				ProjectDir: d.ProjectDir,
				Arch:       arch,
				ZipPath:    o.PackagePath,
				Logger:     log,
			})
			if err != nil {
				return "", err
			}
			st.Build = res
			return fmt.Sprintf("%s zip, %s, sha256 %s", res.Arch, mib(res.Size), res.SHA256[:12]), nil
		}),
		pipeline.Described("deploy", func(ctx context.Context) (string, error) {
			opts := d
			opts.PackagePath, opts.Arch = st.Build.ZipPath, st.Build.Arch
			res, err := deploy.Run(ctx, opts)
			if err != nil {
				return "", err
			}
			st.Deploy = res
			url, ok := res.Outputs["api_url"]
			if !ok {
				return "", fmt.Errorf("the deployment has no api_url output")
			}
			key, ok := res.Outputs["api_key"]
			if !ok {
				return "", fmt.Errorf("the deployment has no api_key output")
			}
			st.APIURL, st.APIKey = url.String(), key.String()
			if res.NoChanges {
				return "no changes", nil
			}
			return res.Summary.Applied(), nil
		}),
		smokeStep(st, o.SmokeName, o.SmokeTimeout, log),
		loadStep(st, o.Load, d.Limits, log),
		cleanupStep{cleanup: o.Cleanup},
	}
	return steps, st
}

// cleanupStep removes local leftovers; it always runs.
type cleanupStep struct{ cleanup func() }

func (cleanupStep) String() string { return "clean up" }
func (cleanupStep) Always() bool   { return true }
func (c cleanupStep) Run(context.Context) error {
	if c.cleanup == nil {
		return pipeline.Skip("nothing to clean")
	}
	c.cleanup()
	return nil
}
