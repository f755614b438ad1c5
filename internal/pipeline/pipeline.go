// Package pipeline runs a list of steps the way goreleaser does: the pipeline
// is data (a slice of steps, each with a name), a step may skip itself with a
// typed error, middleware wraps every step (logging, timing), and an error
// carries the name of the step that failed. `ci` and `deploy` are lists of
// such steps.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Step is one unit of a pipeline.
type Step interface {
	// String names the step in logs and in the summary.
	String() string
	// Run does the work. Returning a *SkipError marks the step skipped.
	Run(ctx context.Context) error
}

// Skipper is implemented by steps that decide before running that they have
// nothing to do (for example the loadtest step when --loadtest is off).
type Skipper interface {
	Skip(ctx context.Context) (skip bool, reason string)
}

// Cleanup is implemented by steps that must run even after an earlier step
// failed or the context was cancelled, such as stopping the local stack.
type Cleanup interface {
	Always() bool
}

// SkipError marks a step as skipped, with the reason shown in the summary.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a *SkipError.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// Status of a step after the run.
type Status string

// Step statuses.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
	StatusNotRun  Status = "not run"
)

// Result is what happened to one step.
type Result struct {
	Step     string        `json:"step"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Detail   string        `json:"detail,omitempty"`
	Err      error         `json:"-"`
}

// StepError wraps the error of the step that failed with its name.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Middleware wraps the run of a step; see Logging.
type Middleware func(step Step, next func(context.Context) error) func(context.Context) error

// Run executes steps in order. After the first failure the remaining steps
// are not run, except Cleanup steps, which always run (with a context that is
// not cancelled, so that cleaning up after Ctrl-C still works). It returns
// one Result per step and the first error as a *StepError.
func Run(ctx context.Context, steps []Step, mw ...Middleware) ([]Result, error) {
	results := make([]Result, 0, len(steps))
	var first error
	for _, s := range steps {
		always := false
		if c, ok := s.(Cleanup); ok {
			always = c.Always()
		}
		if first != nil && !always {
			results = append(results, Result{Step: s.String(), Status: StatusNotRun})
			continue
		}
		runCtx := ctx
		if always {
			runCtx = context.WithoutCancel(ctx)
		}
		res := runOne(runCtx, s, mw)
		results = append(results, res)
		if res.Status == StatusFailed && first == nil {
			first = &StepError{Step: s.String(), Err: res.Err}
		}
	}
	return results, first
}

func runOne(ctx context.Context, s Step, mw []Middleware) Result {
	res := Result{Step: s.String()}
	if sk, ok := s.(Skipper); ok {
		if skip, reason := sk.Skip(ctx); skip {
			res.Status, res.Detail = StatusSkipped, reason
			return res
		}
	}
	run := s.Run
	for i := len(mw) - 1; i >= 0; i-- {
		run = mw[i](s, run)
	}
	start := time.Now()
	err := run(ctx)
	res.Duration = time.Since(start)
	res.Seconds = res.Duration.Round(time.Millisecond).Seconds()
	var skip *SkipError
	switch {
	case err == nil:
		res.Status = StatusOK
		if d, ok := s.(interface{ Detail() string }); ok {
			res.Detail = d.Detail()
		}
	case errors.As(err, &skip):
		res.Status, res.Detail = StatusSkipped, skip.Reason
	default:
		res.Status, res.Err, res.Detail = StatusFailed, err, err.Error()
	}
	return res
}

// Func adapts a name and a function into a Step.
func Func(name string, run func(context.Context) error) Step { return funcStep{name, run} }

type funcStep struct {
	name string
	run  func(context.Context) error
}

func (f funcStep) String() string                { return f.name }
func (f funcStep) Run(ctx context.Context) error { return f.run(ctx) }
func (f funcStep) GoString() string              { return fmt.Sprintf("pipeline.Func(%q)", f.name) }

// Described adapts a function that also reports a one-line detail for the
// summary (what was built, where the API listens, how many checks passed).
func Described(name string, run func(context.Context) (string, error)) Step {
	return &describedStep{name: name, run: run}
}

type describedStep struct {
	name   string
	run    func(context.Context) (string, error)
	detail string
}

func (d *describedStep) String() string { return d.name }
func (d *describedStep) Run(ctx context.Context) error {
	detail, err := d.run(ctx)
	d.detail = detail
	return err
}
func (d *describedStep) Detail() string { return d.detail }
