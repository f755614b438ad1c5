// Package local implements `challengectl local`: the real Lambda binary
// behind a local emulation of API Gateway REST with an API key and usage
// plan (internal/localapi), served until SIGINT or SIGTERM.
package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/secret"
)

// drainTimeout bounds how long in-flight requests may run after Ctrl-C.
const drainTimeout = 30 * time.Second

// Options of the local command.
type Options struct {
	Factory *factory.Factory

	Addr        string
	APIKey      string
	Limits      limits.Limits
	Workers     int
	Timeout     time.Duration
	BinaryPath  string
	ShowSecrets bool
	URLFile     string

	// ready, when set, is called once the stack serves (tests use it to
	// know when to send requests and when to cancel).
	ready func(*localapi.Stack)
}

// NewCmdLocal builds the command; runF replaces the run in flag tests.
func NewCmdLocal(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	def := limits.Default()
	opts := &Options{Factory: f, Limits: def}
	cmd := &cobra.Command{
		Use:   "local [--addr 127.0.0.1:8080] [--api-key KEY] [--rate 100 --burst 50] [--quota 10000 --quota-period MONTH] [--workers N]",
		Short: "Run the API on this machine: the real Lambda behind a local API Gateway with key and usage plan",
		Long: `Build lambda/ for this machine and run it as --workers processes speaking the
Lambda Runtime API, like concurrent Lambda instances, behind a local emulation
of API Gateway REST: the stage is the first path segment, every route needs
the x-api-key header, and the stage and usage-plan token buckets and the quota
answer 429 as AWS does. Limits default to the values deploy gives Terraform.

Prints the API URL (ending in /<stage>, as on AWS) and the key, then serves
until Ctrl-C (SIGINT) or SIGTERM: in-flight requests finish, every worker
stops, and the command exits 130.`,
		Example: `  challengectl local
  challengectl local --addr 127.0.0.1:0 --workers 4 --rate 10 --burst 5
  challengectl local --api-key "$MY_KEY" --quota 100 --quota-period DAY -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return localRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", localapi.DefaultAddr, "address to listen on (port 0 picks a free one)")
	fl.StringVar(&opts.APIKey, "api-key", "", "API key to require (default: a generated throwaway key)")
	fl.Float64Var(&opts.Limits.StageRate, "rate", def.StageRate, "stage throttling rate, requests per second")
	fl.IntVar(&opts.Limits.StageBurst, "burst", def.StageBurst, "stage throttling burst")
	fl.Float64Var(&opts.Limits.KeyRate, "key-rate", def.KeyRate, "usage-plan rate per API key, requests per second")
	fl.IntVar(&opts.Limits.KeyBurst, "key-burst", def.KeyBurst, "usage-plan burst per API key")
	fl.IntVar(&opts.Limits.Quota, "quota", def.Quota, "usage-plan quota per API key and period")
	fl.StringVar(&opts.Limits.QuotaPeriod, "quota-period", def.QuotaPeriod, "quota period: DAY, WEEK or MONTH")
	fl.IntVar(&opts.Workers, "workers", runtime.NumCPU(), "Lambda worker processes (concurrent instances)")
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "Lambda function timeout; a slower invocation gets 504")
	fl.StringVar(&opts.BinaryPath, "binary", "", "run this prebuilt bootstrap instead of building lambda/")
	fl.StringVar(&opts.URLFile, "url-file", "", "write the API URL (never the key) to this file once serving, for scripts; removed on exit")
	fl.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the API key in full even when you chose it or with -o json")
	return cmd
}

// maxWorkers keeps a typo from forking hundreds of processes.
const maxWorkers = 256

func (o *Options) validate() error {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return clierr.Usage("--addr", fmt.Sprintf("%q is not host:port: %v", o.Addr, err), "e.g. 127.0.0.1:8080")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return clierr.Usage("--addr", fmt.Sprintf("%q is not a port number", port), "use 0-65535; 0 picks a free port")
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return clierr.Usage("--addr", fmt.Sprintf("%q is not an IP address", host), "e.g. 127.0.0.1")
	}
	if o.APIKey != "" {
		// API Gateway refuses keys shorter than 20 characters.
		if len(o.APIKey) < 20 {
			return clierr.Usage("--api-key", fmt.Sprintf("the key has %d characters; API Gateway requires at least 20", len(o.APIKey)), "omit --api-key to generate one")
		}
		for _, r := range o.APIKey {
			if r <= ' ' || r > '~' {
				return clierr.Usage("--api-key", "the key must be printable ASCII without spaces", "omit --api-key to generate one")
			}
		}
	}
	period, err := limits.NormalizePeriod(o.Limits.QuotaPeriod)
	if err != nil {
		return err
	}
	o.Limits.QuotaPeriod = period
	if err := o.Limits.Validate(); err != nil {
		return err
	}
	if o.Workers < 1 || o.Workers > maxWorkers {
		return clierr.Usage("--workers", fmt.Sprintf("%d workers", o.Workers), fmt.Sprintf("use 1-%d", maxWorkers))
	}
	// Lambda allows 1 s to 15 minutes; locally a shorter timeout is handy
	// for trying 504s, so only the upper bound is Lambda's.
	if o.Timeout <= 0 || o.Timeout > 15*time.Minute {
		return clierr.Usage("--timeout", fmt.Sprintf("%s is not a function timeout", o.Timeout), "use a duration up to 15m, e.g. 10s")
	}
	if o.BinaryPath != "" {
		st, err := os.Stat(o.BinaryPath)
		if err != nil || st.IsDir() {
			return clierr.Usage("--binary", fmt.Sprintf("%s is not a file", o.BinaryPath), "point it at a built bootstrap, or omit it to build lambda/")
		}
	}
	return nil
}

// readyDoc is the -o json document.
type readyDoc struct {
	URL             string        `json:"url"`
	APIKey          string        `json:"api_key"`
	APIKeyGenerated bool          `json:"api_key_generated"`
	Stage           string        `json:"stage"`
	Workers         int           `json:"workers"`
	FunctionTimeout string        `json:"function_timeout"`
	Limits          limits.Limits `json:"limits"`
}

func localRun(ctx context.Context, o *Options) error {
	f := o.Factory
	log := f.Logger()
	var projectDir string
	if o.BinaryPath == "" {
		dir, err := f.ProjectDir()
		if err != nil {
			return err
		}
		projectDir = dir
	}
	generated := o.APIKey == ""
	key := o.APIKey
	if generated {
		key = localapi.NewAPIKey()
	}
	// Before anything else is printed, so the runner redacts every later line.
	secret.GitHubMask(f.IOStreams.ErrOut, f.Getenv, key)

	stack, err := localapi.Start(ctx, localapi.Options{
		ProjectDir:      projectDir,
		BinaryPath:      o.BinaryPath,
		Addr:            o.Addr,
		Stage:           f.Globals.Stage,
		App:             f.Globals.App,
		APIKey:          key,
		Limits:          o.Limits,
		Workers:         o.Workers,
		FunctionTimeout: o.Timeout,
		Logger:          log,
	})
	if err != nil {
		var ae *localapi.AddrError
		if errors.As(err, &ae) {
			return clierr.Usage("--addr", ae.Error(), "choose another address, e.g. --addr 127.0.0.1:0 for a free port")
		}
		return err
	}
	if err := printReady(o, stack, generated); err != nil {
		_ = stack.Shutdown(context.Background())
		return err
	}
	if o.URLFile != "" {
		if err := writeURLFile(o.URLFile, stack.URL); err != nil {
			_ = stack.Shutdown(context.Background())
			return err
		}
		defer os.Remove(o.URLFile)
	}
	if o.ready != nil {
		o.ready(stack)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-stack.Err():
	}
	log.Info("stopping: draining in-flight requests and stopping the Lambda workers")
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	shutdownErr := stack.Shutdown(drainCtx)
	st := stack.Gateway.Stats()
	log.Info("local API stopped", "requests", st.Requests, "ok", st.OK, "forbidden", st.Forbidden,
		"throttled", st.Throttled, "quota_exceeded", st.QuotaExceeded, "bad_gateway", st.BadGateway,
		"timeouts", st.Timeouts, "workers_replaced", stack.Pool.Restarts())
	switch {
	case serveErr != nil:
		return fmt.Errorf("local API server stopped: %w", serveErr)
	case shutdownErr != nil:
		return shutdownErr
	}
	return ctx.Err()
}

func printReady(o *Options, s *localapi.Stack, generated bool) error {
	f := o.Factory
	// A generated key is a throwaway the user needs to call the API: text
	// output shows it. A key the user chose, and any key in JSON (which
	// tends to be stored), stays masked unless --show-secrets.
	if f.JSON() {
		return render.JSON(f.IOStreams.Out, readyDoc{
			URL:             s.URL,
			APIKey:          secret.Display(s.APIKey, o.ShowSecrets),
			APIKeyGenerated: generated,
			Stage:           s.Stage,
			Workers:         s.Workers,
			FunctionTimeout: s.FunctionTimeout.String(),
			Limits:          s.Limits,
		})
	}
	reveal := generated || o.ShowSecrets
	shown := secret.Display(s.APIKey, reveal)
	curlKey := s.APIKey
	if !reveal {
		curlKey = "$API_KEY"
	}
	note := "generated for this run"
	if !generated {
		note = "yours"
	}
	l := s.Limits
	var b strings.Builder
	fmt.Fprintf(&b, "Local API ready: stage %s, %d Lambda workers, function timeout %s\n\n", s.Stage, s.Workers, s.FunctionTimeout)
	tw := render.Table(&b)
	fmt.Fprintf(tw, "  URL\t%s\n", s.URL)
	fmt.Fprintf(tw, "  API key\t%s (%s)\n", shown, note)
	fmt.Fprintf(tw, "  Stage limit\t%g req/s, burst %d\n", l.StageRate, l.StageBurst)
	fmt.Fprintf(tw, "  Key limit\t%g req/s, burst %d, quota %d per %s\n", l.KeyRate, l.KeyBurst, l.Quota, strings.ToLower(l.QuotaPeriod))
	_ = tw.Flush()
	fmt.Fprintf(&b, "\nTry:\n  curl -H \"x-api-key: %s\" '%s/hello?name=Ada'\n\nPress Ctrl-C to stop.\n", curlKey, s.URL)
	_, err := fmt.Fprint(f.IOStreams.Out, b.String())
	return err
}

// writeURLFile writes url atomically (temp file + rename), so a script
// polling for the file never reads half of it.
func writeURLFile(path, url string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(url+"\n"), 0o644); err != nil {
		return fmt.Errorf("write --url-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write --url-file: %w", err)
	}
	return nil
}
