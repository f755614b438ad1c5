// Package loadtest implements `challengectl loadtest`: it drives
// internal/loadtest and renders the status histogram, latency percentiles,
// achieved rate and the predicted-versus-observed throttling.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	smokecmd "github.com/challengectl/challengectl/internal/cmd/smoke"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/limits"
	lt "github.com/challengectl/challengectl/internal/loadtest"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/secret"
)

// Options of the loadtest command.
type Options struct {
	Factory        *factory.Factory
	URL            string
	APIKey         string
	Requests       int
	Concurrency    int
	Rate           float64
	Duration       time.Duration
	Path           string
	ExpectThrottle bool
	Retry429       int
	Report         string
	LimitRate      float64
	LimitBurst     int

	ResolveTarget func(ctx context.Context) (url, key string, err error)
}

// NewCmdLoadtest builds the command; runF replaces the run in flag tests.
func NewCmdLoadtest(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	// Without --url/--api-key or their environment variables, the target is
	// the current stage's deployment (its Terraform outputs).
	opts.ResolveTarget = func(ctx context.Context) (string, string, error) { return deploycmd.ResolveTarget(ctx, f) }
	d := limits.Default()
	defRate, defBurst := lt.Effective(d)
	cmd := &cobra.Command{
		Use:   "loadtest [--url URL --api-key KEY] [--requests 200] [--concurrency 50] [--rate 0] [--duration D] [--path /health]",
		Short: "Load-test the API and compare the 429s seen with what the token bucket predicts",
		Long: `Fire requests at the API and report the status-code histogram, latency
percentiles (p50, p90, p99, max) and the achieved rate.

--rate 0 (the default) is the closed model: --concurrency clients, each
sending as soon as its previous answer arrived. --rate N is the open model: N
requests per second on a fixed schedule, however slow the answers.

Every send time is replayed through a token bucket with --limit-rate and
--limit-burst (default: the tighter of the stage and usage-plan limits) to
predict the 429s API Gateway should return; the prediction is printed next to
the 429s observed. --expect-throttle exits 1 unless at least one 429 was seen.`,
		Example: `  challengectl loadtest --url http://127.0.0.1:8080/prod --api-key "$KEY" --expect-throttle
  challengectl loadtest --rate 150 --duration 10s --report report.html
  challengectl loadtest --requests 300 --retry-429 4 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") {
				opts.URL = f.Getenv(smokecmd.EnvURL)
			}
			if !cmd.Flags().Changed("api-key") {
				opts.APIKey = f.Getenv(smokecmd.EnvKey)
			}
			// A timed run is bounded by its duration unless --requests is
			// also given.
			if opts.Duration > 0 && !cmd.Flags().Changed("requests") {
				opts.Requests = 0
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return loadtestRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "API base URL, stage included (env "+smokecmd.EnvURL+")")
	fl.StringVar(&opts.APIKey, "api-key", "", "API key sent as x-api-key (env "+smokecmd.EnvKey+"); never printed")
	fl.IntVar(&opts.Requests, "requests", lt.DefaultRequests, "number of requests (with --duration: an upper bound)")
	fl.IntVar(&opts.Concurrency, "concurrency", lt.DefaultConcurrency, "concurrent clients (closed model)")
	fl.Float64Var(&opts.Rate, "rate", 0, "requests per second, open model; 0 = as fast as the concurrency allows")
	fl.DurationVar(&opts.Duration, "duration", 0, "run for this long instead of a number of requests")
	fl.StringVar(&opts.Path, "path", lt.DefaultPath, "path to request, after the base URL")
	fl.BoolVar(&opts.ExpectThrottle, "expect-throttle", false, "exit 1 unless at least one 429 was seen")
	fl.IntVar(&opts.Retry429, "retry-429", 0, "retry a throttled request up to N times with exponential backoff and jitter")
	fl.StringVar(&opts.Report, "report", "", "write a self-contained HTML report with charts to this file")
	fl.Float64Var(&opts.LimitRate, "limit-rate", defRate, "token-bucket rate for the 429 prediction, req/s")
	fl.IntVar(&opts.LimitBurst, "limit-burst", defBurst, "token-bucket burst for the 429 prediction")
	return cmd
}

func (o *Options) validate() error {
	switch {
	case o.URL != "" && invalidURL(o.URL) != "":
		return clierr.Usage("--url", invalidURL(o.URL), "pass the API's base URL, e.g. http://127.0.0.1:8080/prod")
	case o.Requests < 0 || (o.Requests == 0 && o.Duration == 0):
		return clierr.Usage("--requests", fmt.Sprintf("must be at least 1, got %d", o.Requests), "or set --duration")
	case o.Concurrency < 1 || o.Concurrency > lt.MaxConcurrency:
		return clierr.Usage("--concurrency", fmt.Sprintf("must be between 1 and %d, got %d", lt.MaxConcurrency, o.Concurrency), "")
	case o.Rate < 0:
		return clierr.Usage("--rate", fmt.Sprintf("must not be negative, got %v", o.Rate), "0 means as fast as the concurrency allows")
	case o.Duration < 0:
		return clierr.Usage("--duration", fmt.Sprintf("must not be negative, got %v", o.Duration), "")
	case !strings.HasPrefix(o.Path, "/"):
		return clierr.Usage("--path", fmt.Sprintf("%q must start with /", o.Path), "e.g. --path /health")
	case o.Retry429 < 0 || o.Retry429 > lt.MaxRetry429:
		return clierr.Usage("--retry-429", fmt.Sprintf("must be between 0 and %d, got %d", lt.MaxRetry429, o.Retry429), "")
	case o.LimitRate <= 0:
		return clierr.Usage("--limit-rate", fmt.Sprintf("must be positive, got %v", o.LimitRate), "")
	case o.LimitBurst <= 0:
		return clierr.Usage("--limit-burst", fmt.Sprintf("must be positive, got %d", o.LimitBurst), "")
	}
	if o.Report != "" {
		dir := filepath.Dir(o.Report)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return clierr.Usage("--report", fmt.Sprintf("directory %s does not exist", dir), "create it or choose another path")
		}
	}
	return nil
}

func invalidURL(u string) string {
	// The same rule as smoke: an absolute http(s) URL without a query.
	if _, _, err := smokecmd.Target(context.Background(), u, "x", nil); err != nil {
		var ue *clierr.UsageError
		if errors.As(err, &ue) {
			return ue.Msg
		}
		return err.Error()
	}
	return ""
}

func loadtestRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	url, key, err := smokecmd.Target(ctx, opts.URL, opts.APIKey, opts.ResolveTarget)
	if err != nil {
		return err
	}
	secret.GitHubMask(f.IOStreams.ErrOut, f.Getenv, key)
	log := f.Logger()
	o := lt.Options{
		URL: url, APIKey: key, Path: opts.Path, Requests: opts.Requests, Concurrency: opts.Concurrency,
		Rate: opts.Rate, Duration: opts.Duration, Retry429: opts.Retry429,
		Limits: limits.Limits{StageRate: opts.LimitRate, StageBurst: opts.LimitBurst, KeyRate: opts.LimitRate, KeyBurst: opts.LimitBurst},
		Logger: log,
	}
	// The bar is decoration: only on a terminal, never with -q.
	if f.IOStreams.IsStderrTTY() && !f.Globals.Quiet {
		o.Progress = f.IOStreams.ErrOut
	}
	log.Info("load testing", "url", o.Target(), "requests", opts.Requests, "concurrency", opts.Concurrency, "rate", opts.Rate, "duration", opts.Duration)
	res, err := lt.Run(ctx, o)
	if err != nil {
		var ie *lt.InputError
		if errors.As(err, &ie) {
			return clierr.Usage("--"+strings.ToLower(ie.Field), ie.Msg, "")
		}
		return err
	}
	if opts.Report != "" {
		if err := writeReport(opts.Report, res); err != nil {
			return err
		}
		log.Info("report written", "file", opts.Report)
	}
	if f.JSON() {
		if err := render.JSON(f.IOStreams.Out, res); err != nil {
			return err
		}
	} else if err := writeText(f, res, key, opts.Report); err != nil {
		return err
	}
	if res.Responses() == 0 {
		return fmt.Errorf("no request got an HTTP answer from %s: %s", res.URL, topError(res.Errors))
	}
	if n := res.StatusCounts[403]; n > 0 {
		log.Warn("requests were refused with 403: check --api-key", "count", n)
	}
	if opts.ExpectThrottle && res.Throttle.Observed+res.Throttle.QuotaExceeded == 0 {
		fmt.Fprintf(f.IOStreams.ErrOut, "expected throttling: no 429 in %d requests (the bucket predicted %d); raise --requests or --concurrency\n",
			res.Requests, res.Throttle.Predicted)
		return clierr.Silent(errors.New("no 429 seen"))
	}
	return nil
}

// writeReport writes the HTML next to its final name and renames it, so a
// reader never sees half a page.
func writeReport(path string, res *lt.Result) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".loadtest-report-*.html")
	if err != nil {
		return fmt.Errorf("write --report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := lt.WriteHTMLReport(tmp, res); err != nil {
		tmp.Close()
		return fmt.Errorf("write --report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write --report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write --report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write --report: %w", err)
	}
	return nil
}

func topError(errs map[string]int) string {
	best, n := "unknown error", 0
	for msg, c := range errs {
		if c > n || (c == n && msg < best) {
			best, n = msg, c
		}
	}
	return best
}

func writeText(f *factory.Factory, r *lt.Result, key, report string) error {
	out := f.IOStreams.Out
	model := fmt.Sprintf("closed model, concurrency %d", r.Concurrency)
	if r.Model == "open" {
		model = fmt.Sprintf("open model, %g req/s", r.TargetRate)
	}
	fmt.Fprintf(out, "Load test of GET %s (API key %s)\n%d requests, %s, in %s\n\n", r.URL, secret.Mask(key), r.Requests, model, r.Duration.Round(time.Millisecond))

	fmt.Fprintln(out, "Status codes")
	tw := render.Table(out)
	codes := slices.Sorted(maps.Keys(r.StatusCounts))
	for _, c := range codes {
		n := r.StatusCounts[c]
		share := float64(n) / float64(max(r.Requests, 1))
		label := fmt.Sprint(c)
		if c == 0 {
			label = "error"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%5.1f%%\t%s\n", label, n, share*100, strings.Repeat("█", int(share*40+0.5)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for msg, n := range r.Errors {
		fmt.Fprintf(out, "  error: %s (%d)\n", msg, n)
	}
	l := r.Latency
	fmt.Fprintf(out, "\nLatency (ms)   p50 %.2f   p90 %.2f   p99 %.2f   max %.2f\n", l.P50, l.P90, l.P99, l.Max)
	fmt.Fprintf(out, "Achieved rate  %.1f req/s\n", r.Rate)
	t := r.Throttle
	fmt.Fprintf(out, "Throttling     %d × 429 observed, %d predicted by a %g req/s, burst %d token bucket over %d sends\n",
		t.Observed, t.Predicted, t.RateLimit, t.BurstLimit, t.Sends)
	if t.QuotaExceeded > 0 {
		fmt.Fprintf(out, "Quota          %d × 429 Limit Exceeded: the usage plan's quota is spent\n", t.QuotaExceeded)
	}
	if rt := r.Retries; rt.Max > 0 {
		fmt.Fprintf(out, "Retries        %d requests retried (%d retry sends, up to %d each): %d succeeded, %d still 429\n",
			rt.Retried, rt.Attempts, rt.Max, rt.Succeeded, rt.GaveUp)
	}
	if report != "" {
		fmt.Fprintf(out, "Report         %s\n", report)
	}
	return nil
}
