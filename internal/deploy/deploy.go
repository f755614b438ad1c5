// Package deploy is the deploy pipeline of one stage: package, Terraform
// binary, init with the S3 backend and DynamoDB lock, plan, adopt, guard,
// confirm, apply and outputs. `challengectl deploy` and `ci --target aws`
// call Run; outputs, destroy and unlock have their own entry points here so
// the commands stay thin.
package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/challengectl/challengectl/internal/awsconfig"
	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/naming"
	"github.com/challengectl/challengectl/internal/tfconfig"
	"github.com/challengectl/challengectl/internal/tfdriver"
)

// Output is one Terraform output.
type Output = tfdriver.Output

// PlanSummary counts a plan's adds, changes and destroys.
type PlanSummary = tfdriver.PlanSummary

// Default addresses in the real terraform/ tree; tfconfig's invariant test
// checks the tree declares them.
const (
	FunctionAddress   = tfconfig.FunctionAddress
	PermissionAddress = tfconfig.PermissionAddress
	// PermissionQualifier is the alias the API Gateway permission is granted on.
	PermissionQualifier = "live"
)

// Options of one deploy (and of outputs, destroy and unlock, which use the
// subset they need).
type Options struct {
	ProjectDir   string
	TerraformDir string // default ProjectDir/terraform
	TerraformBin string // --terraform-bin
	Region       string
	EndpointURL  string
	Profile      string
	App          string
	Stage        string
	Bucket       string
	Key          string // default naming.StateKey(App, Stage)
	Table        string
	PackagePath  string // a built zip; empty means build lambda/ (see Build)
	Arch         string // arm64 (default) or amd64
	Limits       limits.Limits

	AutoApprove  bool
	PlanOnly     bool
	AllowReplace bool
	Adopt        bool
	LockTimeout  time.Duration
	// GuardedAddresses default to tfdriver.DefaultGuarded.
	GuardedAddresses []string
	// FunctionAddress and PermissionAddress locate the Lambda function and its
	// API Gateway permission in the configuration, for --adopt; defaults
	// FunctionAddress and PermissionAddress.
	FunctionAddress   string
	PermissionAddress string

	// Confirm is asked before apply unless AutoApprove; nil with
	// AutoApprove unset is an error, never a silent apply.
	Confirm  func(summary PlanSummary) (bool, error)
	Progress func(done, total int)
	Logger   *slog.Logger

	// Build turns lambda/ into a zip when PackagePath is empty; default
	// BuildPackage (internal/lambdabuild).
	Build func(ctx context.Context, projectDir, arch string) (zipPath string, err error)
	// TerraformOutput receives Terraform's human output (-v); nil drops it.
	TerraformOutput io.Writer
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// AWSConfig, when set, is used for the SDK calls (GetFunction, the lock
	// item) instead of loading one from Region/Profile/EndpointURL.
	AWSConfig *aws.Config
	// FindOptions tunes binary discovery (tests).
	FindOptions tfdriver.FindOptions

	lockOnly bool // outputs, destroy, unlock: no package needed
}

// Result of a deploy.
type Result struct {
	Summary        PlanSummary               `json:"plan"`
	Changes        []tfdriver.ResourceChange `json:"changes"`
	Applied        bool                      `json:"applied"`
	NoChanges      bool                      `json:"no_changes"`
	Imported       []string                  `json:"imported,omitempty"`
	Outputs        map[string]Output         `json:"-"`
	Terraform      string                    `json:"terraform"`
	TerraformVer   string                    `json:"terraform_version"`
	PackagePath    string                    `json:"package"`
	SourceCodeHash string                    `json:"source_code_hash"`
	StateKey       string                    `json:"state_key"`
	Elapsed        time.Duration             `json:"-"`
}

// ErrDeclined is returned when the user answers no at the confirmation.
var ErrDeclined = errors.New("not applied: the plan was not confirmed")

// NotDeployedError reports a stage with no outputs in its state.
type NotDeployedError struct{ Stage, Key string }

func (e *NotDeployedError) Error() string {
	return fmt.Sprintf("stage %s has no Terraform outputs (state %s is empty or missing): run challengectl deploy first", e.Stage, e.Key)
}

// Validate checks every input before anything is built, run or created.
// Errors name the flag (and environment variable) to fix: exit 2.
func (o *Options) Validate() error {
	if err := awsconfig.ValidateRegion(o.Region); err != nil {
		return err
	}
	if err := awsconfig.ValidateEndpoint(o.EndpointURL); err != nil {
		return err
	}
	if o.Bucket == "" {
		return clierr.Usage("--bucket", "no state bucket is set", "pass --bucket NAME or set TF_STATE_BUCKET (create it with challengectl bootstrap)")
	}
	if o.Table == "" {
		return clierr.Usage("--table", "no lock table is set", "pass --table NAME or set TF_STATE_TABLE (create it with challengectl bootstrap)")
	}
	if o.App == "" {
		o.App = naming.DefaultApp
	}
	if o.Stage == "" {
		o.Stage = naming.DefaultStage
	}
	if o.Key == "" {
		o.Key = naming.StateKey(o.App, o.Stage)
	}
	switch o.Arch {
	case "":
		o.Arch = "arm64"
	case "arm64", "amd64":
	default:
		return clierr.Usage("--arch", fmt.Sprintf("%q is not a Lambda architecture", o.Arch), "use arm64 or amd64")
	}
	if o.Limits == (limits.Limits{}) {
		o.Limits = limits.Default()
	}
	if err := o.Limits.Validate(); err != nil {
		return err
	}
	if o.LockTimeout < 0 {
		return clierr.Usage("--lock-timeout", "must not be negative", "e.g. --lock-timeout 60s")
	}
	if o.TerraformDir == "" {
		if o.ProjectDir == "" {
			return clierr.Usage("--terraform-dir", "no Terraform directory", "pass --terraform-dir or --project-dir")
		}
		o.TerraformDir = filepath.Join(o.ProjectDir, "terraform")
	}
	if st, err := os.Stat(o.TerraformDir); err != nil || !st.IsDir() {
		return clierr.Usage("--terraform-dir", fmt.Sprintf("%s is not a directory", o.TerraformDir), "point it at a Terraform configuration")
	}
	if o.PackagePath == "" && o.Build == nil && !o.lockOnly {
		if o.ProjectDir == "" {
			return clierr.Usage("--package", "no Lambda package to deploy and no project to build one from",
				"pass --package dist/package.zip, or run inside a checkout holding lambda/ (or pass --project-dir)")
		}
		o.Build = BuildPackage
	}
	if o.PackagePath != "" {
		if st, err := os.Stat(o.PackagePath); err != nil || st.IsDir() {
			return clierr.Usage("--package", fmt.Sprintf("%s is not a file", o.PackagePath), "pass the zip written by challengectl build")
		}
	}
	if o.FunctionAddress == "" {
		o.FunctionAddress = FunctionAddress
	}
	if o.PermissionAddress == "" {
		o.PermissionAddress = PermissionAddress
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// BuildPackage cross-compiles lambda/ with internal/lambdabuild into the
// project's dist/package.zip, the same zip `challengectl build` writes.
func BuildPackage(ctx context.Context, projectDir, arch string) (string, error) {
	res, err := lambdabuild.Build(ctx, lambdabuild.Options{
		ProjectDir: projectDir,
		Arch:       arch,
		ZipPath:    filepath.Join(projectDir, "dist", "package.zip"),
	})
	if err != nil {
		return "", err
	}
	return res.ZipPath, nil
}

// SourceCodeHash is Lambda's source_code_hash of a zip: base64(sha256(zip)).
func SourceCodeHash(zipPath string) (string, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return "", fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash package: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// Vars are the root-module variables of the Terraform contract.
func (o *Options) Vars(packagePath, hash string) map[string]any {
	l := o.Limits
	return map[string]any{
		"region":            o.Region,
		"endpoint_url":      o.EndpointURL,
		"app_name":          o.App,
		"stage":             o.Stage,
		"package_zip":       packagePath,
		"source_code_hash":  hash,
		"architecture":      o.Arch,
		"stage_rate_limit":  l.StageRate,
		"stage_burst_limit": l.StageBurst,
		"key_rate_limit":    l.KeyRate,
		"key_burst_limit":   l.KeyBurst,
		"quota_limit":       l.Quota,
		"quota_period":      l.QuotaPeriod,
	}
}

func (o *Options) backend() tfdriver.Backend {
	return tfdriver.Backend{Bucket: o.Bucket, Key: o.Key, Region: o.Region, Table: o.Table, EndpointURL: o.EndpointURL, Profile: o.Profile}
}

// driver finds Terraform and prepares the stage's working directory.
func (o *Options) driver(ctx context.Context) (*tfdriver.Driver, error) {
	fo := o.FindOptions
	fo.Explicit = o.TerraformBin
	if fo.Logger == nil {
		fo.Logger = o.Logger
	}
	bin, err := tfdriver.Find(ctx, fo)
	if err != nil {
		return nil, err
	}
	o.Logger.Debug("terraform binary", "path", bin.Path, "version", bin.Version.String(), "source", bin.Source)
	return tfdriver.New(tfdriver.Config{
		Binary:      bin,
		WorkingDir:  o.TerraformDir,
		Stage:       o.Stage,
		Backend:     o.backend(),
		LockTimeout: o.LockTimeout,
		Getenv:      o.Getenv,
		Output:      o.TerraformOutput,
		Logger:      o.Logger,
	})
}

func (o *Options) awsConfig(ctx context.Context) (aws.Config, error) {
	if o.AWSConfig != nil {
		return *o.AWSConfig, nil
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: o.Region, Profile: o.Profile, EndpointURL: o.EndpointURL, Getenv: getenv})
	if err != nil {
		return aws.Config{}, err
	}
	o.AWSConfig = &cfg
	return cfg, nil
}
