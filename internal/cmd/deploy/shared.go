package deploy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/secret"
)

// StateFlags are the flags every state command (deploy, outputs, destroy,
// unlock) shares: where the state lives and which Terraform to run.
type StateFlags struct {
	Bucket       string
	Key          string
	Table        string
	TerraformDir string
	TerraformBin string
	LockTimeout  time.Duration
}

// Register adds the flags to fs.
func (s *StateFlags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&s.Bucket, "bucket", "", "S3 bucket holding the Terraform state (env TF_STATE_BUCKET)")
	fs.StringVar(&s.Key, "key", "", "S3 key of this stage's state (env TF_STATE_KEY; default <app>/<stage>/terraform.tfstate)")
	fs.StringVar(&s.Table, "table", "", "DynamoDB lock table (env TF_STATE_TABLE)")
	fs.StringVar(&s.TerraformDir, "terraform-dir", "", "Terraform configuration to apply (default <project>/terraform)")
	fs.StringVar(&s.TerraformBin, "terraform-bin", "", "Terraform or OpenTofu binary (default: terraform, then tofu on PATH, then the pinned release in the user cache)")
	fs.DurationVar(&s.LockTimeout, "lock-timeout", 60*time.Second, "how long to wait for the state lock")
}

// DeployOptions turns the flags, their environment fallbacks and the global
// options into library options. Everything is validated before anything
// runs: missing names and a missing or malformed region are usage errors.
func (s *StateFlags) DeployOptions(ctx context.Context, f *factory.Factory) (deploy.Options, error) {
	env := func(v *string, name string) {
		if *v == "" {
			*v = f.Getenv(name)
		}
	}
	env(&s.Bucket, "TF_STATE_BUCKET")
	env(&s.Key, "TF_STATE_KEY")
	env(&s.Table, "TF_STATE_TABLE")
	if s.Bucket == "" {
		return deploy.Options{}, clierr.Usage("--bucket", "no state bucket is set", "pass --bucket NAME or set TF_STATE_BUCKET (create it with challengectl bootstrap)")
	}
	if s.Table == "" {
		return deploy.Options{}, clierr.Usage("--table", "no lock table is set", "pass --table NAME or set TF_STATE_TABLE (create it with challengectl bootstrap)")
	}
	if s.LockTimeout < 0 {
		return deploy.Options{}, clierr.Usage("--lock-timeout", "must not be negative", "e.g. --lock-timeout 60s")
	}
	// The region comes from the flag, the environment or the AWS profile;
	// empty or malformed is a usage error here, never an `Invalid ARN` later.
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return deploy.Options{}, err
	}
	o := deploy.Options{
		TerraformDir: s.TerraformDir,
		TerraformBin: s.TerraformBin,
		Region:       cfg.Region,
		EndpointURL:  f.Globals.EndpointURL,
		Profile:      f.Globals.Profile,
		App:          f.Globals.App,
		Stage:        f.Globals.Stage,
		Bucket:       s.Bucket,
		Key:          s.Key,
		Table:        s.Table,
		LockTimeout:  s.LockTimeout,
		Logger:       f.Logger(),
		Getenv:       f.Getenv,
		AWSConfig:    &cfg,
	}
	if f.Globals.Verbose {
		o.TerraformOutput = f.IOStreams.ErrOut
	}
	if s.TerraformDir == "" {
		dir, err := f.ProjectDir()
		if err != nil {
			return deploy.Options{}, err
		}
		o.ProjectDir = dir
	} else if dir, err := f.ProjectDir(); err == nil {
		o.ProjectDir = dir
	}
	return o, nil
}

// Confirm asks a yes/no question on the terminal; only "yes" (or "y")
// agrees. Callers check CanPrompt first: this never runs without a TTY.
// Ctrl-C while waiting (ctx cancelled) returns at once.
func Confirm(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprintf(out, "%s Only 'yes' will be accepted: ", question)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(in).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(out)
		return false, ctx.Err()
	case a := <-ch:
		if a.err != nil && a.line == "" {
			return false, fmt.Errorf("read answer: %w", a.err)
		}
		s := strings.ToLower(strings.TrimSpace(a.line))
		return s == "yes" || s == "y", nil
	}
}

// outputOrder puts the outputs users look for first.
var outputOrder = []string{"api_url", "api_key", "function_name", "rest_api_id", "stage", "usage_plan_id"}

// DisplayOutputs returns the outputs as strings, sensitive ones masked
// unless reveal. Under GitHub Actions sensitive values are registered with
// ::add-mask:: (on stderr) before they can appear anywhere.
func DisplayOutputs(f *factory.Factory, outs map[string]deploy.Output, reveal bool) map[string]string {
	m := make(map[string]string, len(outs))
	for name, o := range outs {
		v := o.String()
		if o.Sensitive {
			secret.GitHubMask(f.IOStreams.ErrOut, f.Getenv, v)
			v = secret.Display(v, reveal)
		}
		m[name] = v
	}
	return m
}

// OutputNames lists output names in display order.
func OutputNames(m map[string]string) []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range outputOrder {
		if _, ok := m[n]; ok {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range m {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// WriteOutputs prints the outputs as an aligned name/value table.
func WriteOutputs(w io.Writer, m map[string]string) error {
	tw := render.Table(w)
	for _, n := range OutputNames(m) {
		fmt.Fprintf(tw, "%s\t%s\n", n, m[n])
	}
	return tw.Flush()
}
