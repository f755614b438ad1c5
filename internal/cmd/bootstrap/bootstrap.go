// Package bootstrap implements `challengectl bootstrap`: create or repair the
// Terraform state backend (S3 bucket + DynamoDB lock table) and print the
// settings Terraform and the GitHub workflow need. The work is done by
// internal/statebackend; this package turns flags into options and renders
// the report.
package bootstrap

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/naming"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/statebackend"
)

// Options of the bootstrap command.
type Options struct {
	Factory *factory.Factory

	Bucket   string // --bucket, env TF_STATE_BUCKET
	Table    string // --table, env TF_STATE_TABLE
	KMSKeyID string // --kms-key-id
	DryRun   bool   // --dry-run
}

// NewCmdBootstrap builds the command; runF replaces the run in flag tests.
func NewCmdBootstrap(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "bootstrap --bucket NAME --table NAME [--kms-key-id ID] [--dry-run]",
		Short: "Create or repair the Terraform state backend (S3 bucket and DynamoDB lock table)",
		Long: `Create or repair the Terraform state backend: an S3 bucket with
versioning, default encryption, a TLS-only policy, the public access block
and bucket-owner-enforced ownership, and a DynamoDB lock table with a LockID
string hash key, on-demand billing, encryption and deletion protection.

It is idempotent: every setting is read back, and only what differs is
written. On an existing bucket each difference is reported as
setting/found/wanted and repaired; foreign policy statements and tags are
kept. --dry-run only reports. A lock table with the wrong key schema is an
error: it is never dropped or recreated.

Finally it prints the terraform init -backend-config lines and the GitHub
secrets (TF_STATE_BUCKET, TF_STATE_KEY, TF_STATE_TABLE, AWS_REGION).`,
		Example: `  challengectl bootstrap --bucket acme-tf-state --table acme-tf-locks --region eu-west-1
  TF_STATE_BUCKET=acme-tf-state TF_STATE_TABLE=acme-tf-locks challengectl bootstrap --dry-run
  challengectl bootstrap --bucket b --table t --region us-east-1 --endpoint-url http://localhost:4566`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Flags win over the environment.
			if !cmd.Flags().Changed("bucket") {
				opts.Bucket = f.Getenv("TF_STATE_BUCKET")
			}
			if !cmd.Flags().Changed("table") {
				opts.Table = f.Getenv("TF_STATE_TABLE")
			}
			if runF != nil {
				return runF(opts)
			}
			return bootstrapRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Bucket, "bucket", "", "S3 bucket for the Terraform state (env TF_STATE_BUCKET)")
	fl.StringVar(&opts.Table, "table", "", "DynamoDB lock table (env TF_STATE_TABLE)")
	fl.StringVar(&opts.KMSKeyID, "kms-key-id", "", "encrypt with this KMS key (ID, ARN or alias/NAME) instead of SSE-S3")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "only report what would be created or repaired")
	return cmd
}

// Output is the -o json document.
type Output struct {
	*statebackend.Report
	InitArgs      []string          `json:"init_args"`
	GitHubSecrets map[string]string `json:"github_secrets"`
}

func bootstrapRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	// Names first: a bad one is a usage error before any AWS call.
	if err := statebackend.ValidateBucketName(opts.Bucket); err != nil {
		return err
	}
	if err := statebackend.ValidateTableName(opts.Table); err != nil {
		return err
	}
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	endpoint := f.Globals.EndpointURL
	rep, err := statebackend.Ensure(ctx, cfg, statebackend.Options{
		Bucket:   opts.Bucket,
		Table:    opts.Table,
		Region:   cfg.Region,
		KMSKeyID: opts.KMSKeyID,
		App:      f.Globals.App,
		Key:      naming.StateKey(f.Globals.App, f.Globals.Stage),
		DryRun:   opts.DryRun,
		Emulated: endpoint != "",
		Logger:   f.Logger(),
	})
	if err != nil {
		return err
	}
	out := Output{Report: rep, InitArgs: initArgs(rep.Backend, endpoint), GitHubSecrets: rep.Backend.GitHubSecrets()}
	if f.JSON() {
		return render.JSON(f.IOStreams.Out, out)
	}
	return writeText(f.IOStreams.Out, out)
}

// initArgs adds, when an emulator is in use, what Terraform's S3 backend
// needs to talk to it (the same settings challengectl deploy passes).
func initArgs(b statebackend.Backend, endpoint string) []string {
	args := b.InitArgs()
	if endpoint == "" {
		return args
	}
	return append(args,
		fmt.Sprintf(`-backend-config=endpoints={s3=%q,dynamodb=%q,sts=%q}`, endpoint, endpoint, endpoint),
		"-backend-config=use_path_style=true",
		"-backend-config=skip_credentials_validation=true",
		"-backend-config=skip_requesting_account_id=true",
		"-backend-config=skip_metadata_api_check=true",
	)
}

func writeText(w io.Writer, out Output) error {
	var b strings.Builder
	for _, c := range out.Changes {
		b.WriteString(changeLine(c))
		b.WriteByte('\n')
	}
	switch {
	case out.DryRun && out.Drift:
		n := 0
		for _, c := range out.Changes {
			if c.Action == statebackend.ActionWouldCreate || c.Action == statebackend.ActionWouldRepair {
				n++
			}
		}
		fmt.Fprintf(&b, "\nDry run: %d setting(s) would change; nothing was modified. Run without --dry-run to apply.\n", n)
	case !out.Changed && !out.Drift:
		b.WriteString("\nNo change: the state backend is healthy.\n")
	}
	if s := out.Skipped(); len(s) > 0 {
		fmt.Fprintf(&b, "%d setting(s) not checked because the emulator does not implement them (see the warnings).\n", len(s))
	}
	b.WriteString("\nTerraform backend settings:\n  terraform init")
	for _, a := range out.InitArgs {
		b.WriteString(" \\\n    " + shellQuote(a))
	}
	b.WriteString("\n\nGitHub secrets (Settings > Secrets and variables > Actions):\n")
	keys := make([]string, 0, len(out.GitHubSecrets))
	for k := range out.GitHubSecrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s=%s\n", k, out.GitHubSecrets[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// changeLine renders one change: "repaired  bucket versioning: Suspended -> Enabled".
func changeLine(c statebackend.Change) string {
	subject := c.Resource + " " + c.Setting
	if c.Setting == c.Resource {
		subject = c.Resource
	}
	var detail string
	switch c.Action {
	case statebackend.ActionVerified:
		detail = c.Found
	case statebackend.ActionSkipped:
		detail = c.Note
	case statebackend.ActionCreated, statebackend.ActionWouldCreate:
		detail = c.Wanted
	default:
		detail = fmt.Sprintf("found %s, wanted %s", c.Found, c.Wanted)
	}
	return fmt.Sprintf("%-12s %s: %s", c.Action, subject, detail)
}

// shellQuote quotes an argument for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=./:@,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
