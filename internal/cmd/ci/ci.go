// Package ci implements `challengectl ci`: the whole pipeline as one step,
// on this machine (--target local) or on AWS (--target aws).
package ci

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/ci"
	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/ghactions"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/loadtest"
	"github.com/challengectl/challengectl/internal/pipeline"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/secret"
	"github.com/challengectl/challengectl/internal/smoke"
)

// Options of the ci command.
type Options struct {
	Factory *factory.Factory

	Target   string
	Loadtest bool
	// ExpectThrottle fails the loadtest step when no 429 was seen. It
	// defaults to on for local, whose buckets are exact, and off for aws,
	// where AWS treats limits as targets and a deploy should not fail
	// because AWS was generous.
	ExpectThrottle    bool
	expectThrottleSet bool
	Requests          int
	Concurrency       int
	Workers           int
	SmokeTimeout      time.Duration
	AWS               AWSOptions
}

// NewCmdCI builds the command; runF replaces the run in flag tests.
func NewCmdCI(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "ci [--target aws|local] [--loadtest]",
		Short: "Run the whole pipeline as one step: build, deploy or start locally, smoke, loadtest",
		Long: `Run the whole pipeline as one step and print a summary.

  --target local (default): build → local stack → smoke → loadtest → stop.
    Needs only Go; no AWS account.
  --target aws: bootstrap → build → deploy → smoke (→ loadtest with --loadtest).

Under GitHub Actions the API key is masked first, and the job summary and the
step output api_url are written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.expectThrottleSet = cmd.Flags().Changed("expect-throttle")
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return ciRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Target, "target", "local", "where to run: local or aws")
	fl.BoolVar(&opts.Loadtest, "loadtest", false, "on aws, also run the loadtest (always on for local)")
	fl.BoolVar(&opts.ExpectThrottle, "expect-throttle", false, "fail the loadtest step unless it saw HTTP 429s (default: on for local, off for aws)")
	fl.IntVar(&opts.Requests, "requests", 300, "loadtest requests")
	fl.IntVar(&opts.Concurrency, "concurrency", 50, "loadtest concurrency")
	fl.IntVar(&opts.Workers, "workers", 0, "local Lambda worker processes (default: number of CPUs)")
	fl.DurationVar(&opts.SmokeTimeout, "smoke-timeout", 60*time.Second, "how long smoke checks retry while a deployment propagates")
	addAWSFlags(fl, &opts.AWS)
	return cmd
}

func (o *Options) validate() error {
	switch o.Target {
	case "local", "aws":
	default:
		return clierr.Usage("--target", fmt.Sprintf("%q is not a target", o.Target), "use local or aws")
	}
	if o.Requests <= 0 {
		return clierr.Usage("--requests", fmt.Sprintf("must be positive, got %d", o.Requests), "")
	}
	if o.Concurrency <= 0 {
		return clierr.Usage("--concurrency", fmt.Sprintf("must be positive, got %d", o.Concurrency), "")
	}
	if o.Workers < 0 {
		return clierr.Usage("--workers", fmt.Sprintf("must not be negative, got %d", o.Workers), "")
	}
	if o.SmokeTimeout <= 0 {
		return clierr.Usage("--smoke-timeout", "must be positive", "e.g. 60s")
	}
	return nil
}

func ciRun(ctx context.Context, o *Options) error {
	f := o.Factory
	log := f.Logger()
	load := ci.DefaultLoad()
	load.Requests, load.Concurrency = o.Requests, o.Concurrency
	load.ExpectThrottle = o.Target == "local"
	if o.expectThrottleSet {
		load.ExpectThrottle = o.ExpectThrottle
	}

	var (
		steps []pipeline.Step
		state *ci.State
	)
	switch o.Target {
	case "local":
		dir, err := f.ProjectDir()
		if err != nil {
			return err
		}
		steps, state = ci.LocalSteps(ci.LocalOptions{
			ProjectDir:   dir,
			App:          f.Globals.App,
			Stage:        f.Globals.Stage,
			Limits:       limits.Default(),
			Workers:      o.Workers,
			SmokeTimeout: o.SmokeTimeout,
			Load:         load,
			Logger:       log,
		})
	case "aws":
		load.Enabled = o.Loadtest
		var err error
		steps, state, err = awsSteps(ctx, o, load)
		if err != nil {
			return err
		}
	}

	// Workflow commands go to stderr so that -o json keeps stdout to one document;
	// the runner reads both streams.
	gh := ghactions.Runner{Getenv: f.Getenv, Log: f.IOStreams.ErrOut}
	// The key must be masked before any line could show it: wrap the steps
	// so that the moment a step learns the key, the runner is told.
	masked := maskKeyMiddleware(state, gh)
	results, runErr := pipeline.Run(ctx, steps, pipeline.Logging(log), masked)

	if err := writeActions(gh, o.Target, results, state); err != nil {
		log.Warn("could not write GitHub Actions outputs", "error", err)
	}
	if f.JSON() {
		if err := render.JSON(f.IOStreams.Out, summaryDoc(o.Target, results, state, runErr)); err != nil {
			return err
		}
	} else {
		printSummary(f.IOStreams.Out, o.Target, results, state)
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return clierr.ErrInterrupted
		}
		return clierr.Silent(runErr)
	}
	return nil
}

func maskKeyMiddleware(st *ci.State, gh ghactions.Runner) pipeline.Middleware {
	masked := ""
	return func(_ pipeline.Step, next func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			err := next(ctx)
			if st.APIKey != "" && st.APIKey != masked {
				gh.Mask(st.APIKey)
				masked = st.APIKey
			}
			return err
		}
	}
}

type summary struct {
	Target   string            `json:"target"`
	Passed   bool              `json:"passed"`
	Error    string            `json:"error,omitempty"`
	APIURL   string            `json:"api_url,omitempty"`
	Steps    []pipeline.Result `json:"steps"`
	Smoke    *smoke.Report     `json:"smoke,omitempty"`
	Loadtest *loadtest.Result  `json:"loadtest,omitempty"`
}

func summaryDoc(target string, results []pipeline.Result, st *ci.State, err error) summary {
	s := summary{Target: target, Passed: err == nil, APIURL: st.APIURL, Steps: results, Smoke: st.Smoke, Loadtest: st.Loadtest}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

func printSummary(w io.Writer, target string, results []pipeline.Result, st *ci.State) {
	tw := render.Table(w)
	fmt.Fprintf(tw, "STEP\tSTATUS\tDURATION\tDETAIL\n")
	for _, r := range results {
		d := ""
		if r.Duration > 0 {
			d = r.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Step, r.Status, d, oneLine(r.Detail))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if st.APIURL != "" {
		fmt.Fprintf(w, "API (%s): %s\n", target, st.APIURL)
	}
	if st.APIKey != "" {
		fmt.Fprintf(w, "API key: %s\n", secret.Mask(st.APIKey))
	}
	if st.Smoke != nil {
		fmt.Fprintf(w, "Smoke: %d/%d checks passed\n", st.Smoke.PassedChecks(), len(st.Smoke.Checks))
	}
	if lt := st.Loadtest; lt != nil {
		fmt.Fprintf(w, "Loadtest: %d requests, %s; 429s observed %d, predicted %d; p50 %.2f ms, p99 %.2f ms\n",
			lt.Requests, statusLine(lt.StatusCounts), lt.StatusCounts[429], lt.Throttle.Predicted,
			lt.Latency.P50, lt.Latency.P99)
	}
}

func statusLine(counts map[int]int) string {
	codes := make([]int, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", counts[c], c))
	}
	return strings.Join(parts, " ")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 100 {
		s = s[:99] + "…"
	}
	return s
}

func writeActions(gh ghactions.Runner, target string, results []pipeline.Result, st *ci.State) error {
	if !gh.Enabled() {
		return nil
	}
	if st.APIURL != "" {
		if err := gh.SetOutput("api_url", st.APIURL); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## challengectl ci (%s)\n\n| step | status | duration | detail |\n|---|---|---|---|\n", target)
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Step, r.Status, r.Duration.Round(time.Millisecond), strings.ReplaceAll(oneLine(r.Detail), "|", "\\|"))
	}
	if st.APIURL != "" {
		fmt.Fprintf(&b, "\nAPI: %s\n", st.APIURL)
	}
	if lt := st.Loadtest; lt != nil {
		fmt.Fprintf(&b, "\nLoadtest: %d requests, %s; 429s observed %d, predicted %d\n", lt.Requests, statusLine(lt.StatusCounts), lt.StatusCounts[429], lt.Throttle.Predicted)
	}
	return gh.AppendSummary(b.String())
}
