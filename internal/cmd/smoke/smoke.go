// Package smoke implements `challengectl smoke`: the checks of
// internal/smoke against a deployed or local API, rendered as a table or
// one JSON document.
package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/secret"
	smokelib "github.com/challengectl/challengectl/internal/smoke"
)

// Environment fallbacks of --url and --api-key (CLI.md).
const (
	EnvURL = "CHALLENGECTL_API_URL"
	EnvKey = "CHALLENGECTL_API_KEY"
)

// Options of the smoke command.
type Options struct {
	Factory *factory.Factory
	URL     string
	APIKey  string
	Name    string
	Timeout time.Duration

	// ResolveTarget defaults to reading the stage's Terraform outputs.
	ResolveTarget func(ctx context.Context) (url, key string, err error)
	HTTPClient    *http.Client
}

// NewCmdSmoke builds the command; runF replaces the run in flag tests.
func NewCmdSmoke(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	// Without --url/--api-key or their environment variables, the target is
	// the current stage's deployment (its Terraform outputs).
	opts.ResolveTarget = func(ctx context.Context) (string, string, error) { return deploycmd.ResolveTarget(ctx, f) }
	cmd := &cobra.Command{
		Use:   "smoke [--url URL --api-key KEY] [--name NAME] [--timeout 60s]",
		Short: "Check that the API answers /health, /hello and refuses requests without a key",
		Long: `Smoke-test the API: GET /health must answer 200 {"status":"ok"}, GET
/hello?name=NAME 200 {"message":"Hello, NAME!"}, and GET /health without the
API key 403. Each check is retried with exponential backoff and jitter until
--timeout, while a fresh deployment propagates. Exits 1 if any check fails.

The URL and key come from --url/--api-key, then CHALLENGECTL_API_URL and
CHALLENGECTL_API_KEY, then the current stage's Terraform outputs.`,
		Example: `  challengectl smoke --url http://127.0.0.1:8080/prod --api-key "$KEY"
  challengectl smoke --name "Ada Lovelace" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") {
				opts.URL = f.Getenv(EnvURL)
			}
			if !cmd.Flags().Changed("api-key") {
				opts.APIKey = f.Getenv(EnvKey)
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return smokeRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "API base URL, stage included (env "+EnvURL+")")
	fl.StringVar(&opts.APIKey, "api-key", "", "API key sent as x-api-key (env "+EnvKey+"); never printed")
	fl.StringVar(&opts.Name, "name", smokelib.DefaultName, "name for /hello?name=")
	fl.DurationVar(&opts.Timeout, "timeout", smokelib.DefaultTimeout, "give up retrying the checks after this long")
	return cmd
}

func (o *Options) validate() error {
	if o.URL != "" {
		if err := smokelib.ValidateURL(o.URL); err != nil {
			var ie *smokelib.InputError
			errors.As(err, &ie)
			return clierr.Usage("--url", ie.Msg, "pass the API's base URL, e.g. https://ID.execute-api.REGION.amazonaws.com/prod")
		}
	}
	if o.Timeout <= 0 {
		return clierr.Usage("--timeout", fmt.Sprintf("must be positive, got %v", o.Timeout), "e.g. --timeout 60s")
	}
	if o.Name == "" {
		return clierr.Usage("--name", "must not be empty", "")
	}
	return nil
}

// Target resolves the URL and key: flags and environment first, then the
// resolver for what is still missing. It is shared with loadtest.
func Target(ctx context.Context, url, key string, resolve func(context.Context) (string, string, error)) (string, string, error) {
	if (url == "" || key == "") && resolve != nil {
		u, k, err := resolve(ctx)
		var usage *clierr.UsageError
		switch {
		case errors.As(err, &usage) && url == "":
			// No deployment to read from: say so, naming --url.
			return "", "", err
		case errors.As(err, &usage):
			// The URL was given; the checks below name the missing key.
		case err != nil:
			return "", "", fmt.Errorf("find the API URL and key from the deployment: %w", err)
		}
		if url == "" {
			url = u
		}
		if key == "" {
			key = k
		}
	}
	switch {
	case url == "":
		return "", "", clierr.Usage("--url", "no API URL", "pass --url and --api-key, set "+EnvURL+"/"+EnvKey+", or deploy first")
	case key == "":
		return "", "", clierr.Usage("--api-key", "no API key", "pass --api-key or set "+EnvKey)
	}
	if err := smokelib.ValidateURL(url); err != nil {
		msg := err.Error()
		var ie *smokelib.InputError
		if errors.As(err, &ie) {
			msg = ie.Msg // without the package's "smoke: URL:" prefix
		}
		return "", "", clierr.Usage("--url", msg, "")
	}
	return url, key, nil
}

func smokeRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	url, key, err := Target(ctx, opts.URL, opts.APIKey, opts.ResolveTarget)
	if err != nil {
		return err
	}
	// Before anything else is printed, so Actions redacts the key everywhere.
	secret.GitHubMask(f.IOStreams.ErrOut, f.Getenv, key)
	log := f.Logger()
	log.Info("smoke testing", "url", url, "timeout", opts.Timeout)
	rep, err := smokelib.Run(ctx, smokelib.Options{
		URL: url, APIKey: key, Name: opts.Name, Timeout: opts.Timeout,
		HTTPClient: opts.HTTPClient, Logger: log,
	})
	if err != nil {
		var ie *smokelib.InputError
		if errors.As(err, &ie) {
			return clierr.Usage(map[string]string{"URL": "--url", "APIKey": "--api-key", "Timeout": "--timeout"}[ie.Field], ie.Msg, "")
		}
		return err
	}
	if f.JSON() {
		if err := render.JSON(f.IOStreams.Out, rep); err != nil {
			return err
		}
	} else if err := writeText(f, rep, key); err != nil {
		return err
	}
	if !rep.Passed {
		failed := 0
		for _, c := range rep.Checks {
			if !c.Passed {
				failed++
			}
		}
		return clierr.Silent(fmt.Errorf("%d of %d smoke checks failed", failed, len(rep.Checks)))
	}
	return nil
}

func writeText(f *factory.Factory, rep *smokelib.Report, key string) error {
	out := f.IOStreams.Out
	fmt.Fprintf(out, "Smoke test of %s (API key %s)\n\n", rep.URL, secret.Mask(key))
	tw := render.Table(out)
	fmt.Fprintln(tw, "CHECK\tREQUEST\tSTATUS\tLATENCY\tATTEMPTS\tRESULT")
	passed := 0
	for _, c := range rep.Checks {
		req := c.Method + " " + c.Path
		if c.Name == "no-key" {
			req += " (no key)"
		}
		status := "-"
		if c.Status != 0 {
			status = fmt.Sprint(c.Status)
		}
		result := "pass"
		if c.Passed {
			passed++
		} else {
			result = "FAIL: " + c.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.Name, req, status, c.Latency.Round(10*time.Microsecond), c.Attempts, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "passed"
	if !rep.Passed {
		verdict = "FAILED"
	}
	_, err := fmt.Fprintf(out, "\n%s: %d of %d checks passed\n", verdict, passed, len(rep.Checks))
	return err
}
