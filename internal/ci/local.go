// Package ci defines the `challengectl ci` pipelines as lists of steps
// (internal/pipeline): on the local target build → local stack → smoke →
// loadtest → stop; on aws bootstrap → build → deploy → smoke (→ loadtest).
// Steps share one State, which the summary and the JSON output read.
package ci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/loadtest"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/pipeline"
	"github.com/challengectl/challengectl/internal/smoke"
	"github.com/challengectl/challengectl/internal/statebackend"
)

// LoadSettings configure the loadtest step.
type LoadSettings struct {
	Enabled        bool
	Requests       int
	Concurrency    int
	Path           string
	ExpectThrottle bool
}

// DefaultLoad is the pipeline's loadtest: enough requests at enough
// concurrency to drain the default burst and provoke 429s.
func DefaultLoad() LoadSettings {
	return LoadSettings{Enabled: true, Requests: 300, Concurrency: 50, Path: "/health", ExpectThrottle: true}
}

// State is what the steps learn and hand to each other.
type State struct {
	Backend  *statebackend.Report
	Build    *lambdabuild.Result
	Deploy   *deploy.Result
	APIURL   string
	APIKey   string
	Smoke    *smoke.Report
	Loadtest *loadtest.Result

	stack *localapi.Stack
}

// LocalOptions configure the local pipeline.
type LocalOptions struct {
	ProjectDir   string
	App, Stage   string
	Limits       limits.Limits
	Workers      int
	SmokeName    string
	SmokeTimeout time.Duration
	Load         LoadSettings
	Logger       *slog.Logger
}

// LocalSteps returns the local pipeline and the state its steps fill.
func LocalSteps(o LocalOptions) ([]pipeline.Step, *State) {
	st := &State{}
	log := orDiscard(o.Logger)
	var workDir string
	steps := []pipeline.Step{
		pipeline.Described("build", func(ctx context.Context) (string, error) {
			dir, err := os.MkdirTemp("", "challengectl-ci-")
			if err != nil {
				return "", fmt.Errorf("create build folder: %w", err)
			}
			workDir = dir
			res, err := lambdabuild.Build(ctx, lambdabuild.Options{
				ProjectDir: o.ProjectDir,
				Arch:       lambdabuild.HostArch(),
				GOOS:       runtime.GOOS,
				BinaryPath: filepath.Join(dir, "bootstrap"),
				Logger:     log,
			})
			if err != nil {
				return "", err
			}
			st.Build = res
			return fmt.Sprintf("bootstrap for %s/%s, %s", res.GOOS, res.Arch, mib(res.Size)), nil
		}),
		pipeline.Described("local stack", func(ctx context.Context) (string, error) {
			stack, err := localapi.Start(ctx, localapi.Options{
				ProjectDir: o.ProjectDir,
				BinaryPath: st.Build.BinaryPath,
				Addr:       "127.0.0.1:0",
				App:        o.App,
				Stage:      o.Stage,
				Limits:     o.Limits,
				Workers:    o.Workers,
				Logger:     log,
			})
			if err != nil {
				return "", err
			}
			st.stack, st.APIURL, st.APIKey = stack, stack.URL, stack.APIKey
			return fmt.Sprintf("%s, %d workers", stack.URL, stack.Workers), nil
		}),
		smokeStep(st, o.SmokeName, o.SmokeTimeout, log),
		loadStep(st, o.Load, o.Limits, log),
		&stopStep{st: st, cleanup: func() {
			if workDir != "" {
				os.RemoveAll(workDir)
			}
		}},
	}
	return steps, st
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// stopStep shuts the local stack down; it always runs, even after a failure
// or Ctrl-C, so no worker process outlives the pipeline.
type stopStep struct {
	st      *State
	cleanup func()
	detail  string
}

func (*stopStep) String() string   { return "stop" }
func (*stopStep) Always() bool     { return true }
func (s *stopStep) Detail() string { return s.detail }
func (s *stopStep) Run(ctx context.Context) error {
	defer s.cleanup()
	if s.st.stack == nil {
		return pipeline.Skip("nothing was started")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.st.stack.Shutdown(ctx); err != nil {
		return err
	}
	s.detail = fmt.Sprintf("%d workers stopped", s.st.stack.Workers)
	return nil
}

func smokeStep(st *State, name string, timeout time.Duration, log *slog.Logger) pipeline.Step {
	return pipeline.Described("smoke", func(ctx context.Context) (string, error) {
		rep, err := smoke.Run(ctx, smoke.Options{URL: st.APIURL, APIKey: st.APIKey, Name: name, Timeout: timeout, Logger: log})
		if err != nil {
			return "", err
		}
		st.Smoke = rep
		detail := fmt.Sprintf("%d/%d checks passed", rep.PassedChecks(), len(rep.Checks))
		if !rep.Passed {
			return detail, errors.New(failedChecks(rep))
		}
		return detail, nil
	})
}

func failedChecks(rep *smoke.Report) string {
	msg := "smoke checks failed:"
	for _, c := range rep.Checks {
		if !c.Passed {
			msg += fmt.Sprintf(" %s (%s)", c.Name, c.Reason)
		}
	}
	return msg
}

// loadSkipper lets the loadtest step skip itself when disabled.
type loadSkipper struct {
	pipeline.Step
	enabled bool
}

func (l loadSkipper) Skip(context.Context) (bool, string) {
	return !l.enabled, "disabled (pass --loadtest)"
}

func (l loadSkipper) Detail() string {
	if d, ok := l.Step.(interface{ Detail() string }); ok {
		return d.Detail()
	}
	return ""
}

func loadStep(st *State, ls LoadSettings, lim limits.Limits, log *slog.Logger) pipeline.Step {
	run := pipeline.Described("loadtest", func(ctx context.Context) (string, error) {
		res, err := loadtest.Run(ctx, loadtest.Options{
			URL:         st.APIURL,
			APIKey:      st.APIKey,
			Path:        ls.Path,
			Requests:    ls.Requests,
			Concurrency: ls.Concurrency,
			Limits:      lim,
			Logger:      log,
		})
		if err != nil {
			return "", err
		}
		st.Loadtest = res
		detail := fmt.Sprintf("%d requests, 429s: %d observed, %d predicted", res.Requests, res.Throttle.Observed, res.Throttle.Predicted)
		if ls.ExpectThrottle && res.Throttle.Observed == 0 {
			return detail, fmt.Errorf("expected HTTP 429s from %d requests at concurrency %d, saw none", ls.Requests, ls.Concurrency)
		}
		return detail, nil
	})
	return loadSkipper{Step: run, enabled: ls.Enabled}
}
