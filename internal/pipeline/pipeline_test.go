package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"bytes"
	"log/slog"
)

type skipStep struct{ name string }

func (s skipStep) String() string                      { return s.name }
func (s skipStep) Run(context.Context) error           { panic("a skipped step must not run") }
func (s skipStep) Skip(context.Context) (bool, string) { return true, "disabled" }

type cleanupStep struct {
	ran    *bool
	ctxErr *error
}

func (c cleanupStep) String() string { return "stop" }
func (c cleanupStep) Always() bool   { return true }
func (c cleanupStep) Run(ctx context.Context) error {
	*c.ran = true
	*c.ctxErr = ctx.Err()
	return nil
}

func TestRunOrderSkipFailureAndCleanup(t *testing.T) {
	var order []string
	step := func(name string, err error) Step {
		return Func(name, func(context.Context) error { order = append(order, name); return err })
	}
	boom := errors.New("boom")
	var cleaned bool
	var cleanupCtxErr error
	ctx, cancel := context.WithCancel(context.Background())
	steps := []Step{
		step("build", nil),
		skipStep{"loadtest"},
		Func("typed skip", func(context.Context) error { return Skip("nothing to do") }),
		Func("smoke", func(context.Context) error { cancel(); order = append(order, "smoke"); return boom }),
		step("after", nil),
		cleanupStep{ran: &cleaned, ctxErr: &cleanupCtxErr},
	}
	results, err := Run(ctx, steps)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "smoke" || !errors.Is(err, boom) {
		t.Fatalf("error = %v, want a StepError for smoke wrapping boom", err)
	}
	if strings.Join(order, ",") != "build,smoke" {
		t.Fatalf("order = %v", order)
	}
	want := []Status{StatusOK, StatusSkipped, StatusSkipped, StatusFailed, StatusNotRun, StatusOK}
	for i, r := range results {
		if r.Status != want[i] {
			t.Errorf("step %s: status %s, want %s", r.Step, r.Status, want[i])
		}
	}
	if results[2].Detail != "nothing to do" || results[1].Detail != "disabled" {
		t.Errorf("skip reasons not kept: %+v", results[1:3])
	}
	if !cleaned || cleanupCtxErr != nil {
		t.Fatalf("cleanup ran=%v ctxErr=%v: it must run with a live context after cancel", cleaned, cleanupCtxErr)
	}
}

func TestLoggingMiddleware(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	_, err := Run(context.Background(), []Step{Func("build", func(context.Context) error { return nil })}, Logging(log))
	if err != nil || !strings.Contains(buf.String(), "build") {
		t.Fatalf("err=%v log=%q", err, buf.String())
	}
}

func TestDescribedDetail(t *testing.T) {
	results, err := Run(context.Background(), []Step{
		Described("build", func(context.Context) (string, error) { return "bootstrap 2.4 MiB", nil }),
	})
	if err != nil || results[0].Detail != "bootstrap 2.4 MiB" {
		t.Fatalf("err=%v results=%+v", err, results)
	}
}
