package lambdaruntime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/lambdaruntime"
	"github.com/challengectl/challengectl/internal/lambdaruntime/lambdatest"
)

func startPool(t *testing.T, o lambdaruntime.Options) *lambdaruntime.Pool {
	t.Helper()
	if o.BinaryPath == "" {
		o.BinaryPath = lambdatest.TestFunction(t)
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	p, err := lambdaruntime.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// event builds the proxy event testfn dispatches on.
func event(path string, query map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"path": path, "queryStringParameters": query})
	return b
}

// body decodes the proxy response's JSON body.
func body(t *testing.T, payload []byte, into any) {
	t.Helper()
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		t.Fatalf("response %q: %v", payload, err)
	}
	if err := json.Unmarshal([]byte(resp.Body), into); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
}

func pidOf(t *testing.T, p *lambdaruntime.Pool) int {
	t.Helper()
	out, err := p.Invoke(context.Background(), event("/pid", nil))
	if err != nil {
		t.Fatalf("invoke /pid: %v", err)
	}
	var v struct{ PID int }
	body(t, out, &v)
	return v.PID
}

// alive reports whether pid is a running process (zombies count as dead:
// they are only waiting for init to reap them).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // not Linux: trust kill(0)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestInvokeSeesLambdaEnvironment(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{FunctionName: "challenge-api-prod", Region: "eu-west-1", Timeout: 7 * time.Second})
	before := time.Now()
	out, err := p.Invoke(context.Background(), event("/env", nil))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Env        map[string]string `json:"env"`
		RequestID  string            `json:"request_id"`
		ARN        string            `json:"invoked_function_arn"`
		DeadlineMS int64             `json:"deadline_ms"`
		TraceID    string            `json:"trace_id"`
	}
	body(t, out, &v)
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "challenge-api-prod",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_REGION":                      "eu-west-1",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/challenge-api-prod",
	} {
		if v.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, v.Env[k], want)
		}
	}
	if !strings.HasPrefix(v.Env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q, want a loopback address", v.Env["AWS_LAMBDA_RUNTIME_API"])
	}
	// The host's environment (credentials, HOME...) does not leak in.
	if _, ok := v.Env["HOME"]; ok {
		t.Errorf("worker environment holds HOME from the host")
	}
	if v.ARN != "arn:aws:lambda:eu-west-1:123456789012:function:challenge-api-prod" || v.ARN != p.FunctionARN() {
		t.Errorf("invoked ARN = %q", v.ARN)
	}
	if len(v.RequestID) != 36 {
		t.Errorf("request id %q is not a UUID", v.RequestID)
	}
	if !strings.HasPrefix(v.TraceID, "Root=1-") {
		t.Errorf("trace id %q", v.TraceID)
	}
	// The deadline is the function timeout after the runtime got the event.
	after := time.Now()
	lo, hi := before.Add(7*time.Second).UnixMilli(), after.Add(7*time.Second).UnixMilli()
	if v.DeadlineMS < lo || v.DeadlineMS > hi {
		t.Errorf("deadline %d not in [%d, %d]", v.DeadlineMS, lo, hi)
	}
}

func TestFunctionErrorIsTyped(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	_, err := p.Invoke(context.Background(), event("/error", nil))
	var fe *lambdaruntime.FunctionError
	if !errors.Is(err, lambdaruntime.ErrFunctionError) || !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FunctionError", err)
	}
	if fe.Message != "failing on purpose" || fe.Type == "" {
		t.Errorf("function error = %+v", fe)
	}
}

func TestPanicIsAFunctionErrorAndTheWorkerIsReplaced(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	pid := pidOf(t, p)
	_, err := p.Invoke(context.Background(), event("/panic", nil))
	if !errors.Is(err, lambdaruntime.ErrFunctionError) {
		t.Fatalf("err = %v, want ErrFunctionError", err)
	}
	// aws-lambda-go exits after reporting a panic; the pool replaces it.
	if got := pidOf(t, p); got == pid {
		t.Errorf("worker pid unchanged after a panic: %d", got)
	}
}

func TestCrashFailsTheInvocationAndReplacesTheWorker(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	pid := pidOf(t, p)
	_, err := p.Invoke(context.Background(), event("/crash", nil))
	var ce *lambdaruntime.CrashError
	if !errors.Is(err, lambdaruntime.ErrWorkerCrashed) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CrashError", err)
	}
	if ce.PID != pid || !strings.Contains(ce.Status, "exit status 3") || !strings.Contains(ce.Stderr, "crashing on purpose") {
		t.Errorf("crash error = %+v", ce)
	}
	if got := pidOf(t, p); got == pid || got == 0 {
		t.Errorf("worker not replaced: pid %d", got)
	}
	if alive(pid) {
		t.Errorf("crashed worker %d still running", pid)
	}
	if p.Restarts() != 1 {
		t.Errorf("restarts = %d, want 1", p.Restarts())
	}
}

func TestTimeoutKillsAndReplacesTheWorker(t *testing.T) {
	const timeout = 300 * time.Millisecond
	p := startPool(t, lambdaruntime.Options{Timeout: timeout})
	pid := pidOf(t, p)
	start := time.Now()
	_, err := p.Invoke(context.Background(), event("/sleep", map[string]string{"ms": "5000"}))
	elapsed := time.Since(start)
	if !errors.Is(err, lambdaruntime.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	// The timeout fires no earlier than configured and well before the
	// function would have answered.
	if elapsed < timeout || elapsed >= 5*time.Second {
		t.Errorf("timed out after %s, want between %s and 5s", elapsed, timeout)
	}
	if got := pidOf(t, p); got == pid {
		t.Errorf("worker not replaced after the timeout")
	}
	if alive(pid) {
		t.Errorf("timed-out worker %d still running", pid)
	}
}

func TestWorkersRunConcurrently(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{Workers: 2})
	type span struct {
		PID   int   `json:"pid"`
		Start int64 `json:"start_ns"`
		End   int64 `json:"end_ns"`
	}
	spans := make([]span, 2)
	var wg sync.WaitGroup
	for i := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := p.Invoke(context.Background(), event("/sleep", map[string]string{"ms": "400"}))
			if err != nil {
				t.Error(err)
				return
			}
			body(t, out, &spans[i])
		}()
	}
	wg.Wait()
	if spans[0].PID == spans[1].PID {
		t.Errorf("both invocations ran in worker %d", spans[0].PID)
	}
	// Overlapping execution intervals prove the two instances ran at once.
	if spans[0].Start >= spans[1].End || spans[1].Start >= spans[0].End {
		t.Errorf("invocations did not overlap: %+v", spans)
	}
}

func TestResponseTooLarge(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	_, err := p.Invoke(context.Background(), event("/big", map[string]string{"bytes": "7000000"}))
	if !errors.Is(err, lambdaruntime.ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
	if _, err := p.Invoke(context.Background(), event("/health", nil)); err != nil {
		t.Errorf("pool unusable after a too-large response: %v", err)
	}
}

func TestInitFailure(t *testing.T) {
	_, err := lambdaruntime.Start(context.Background(), lambdaruntime.Options{
		BinaryPath: lambdatest.TestFunction(t),
		Workers:    2,
		Env:        []string{"TESTFN_INIT_FAIL=1"},
	})
	var ie *lambdaruntime.InitError
	if !errors.Is(err, lambdaruntime.ErrInitFailed) || !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an InitError", err)
	}
	if !strings.Contains(ie.Stderr, "init failure on purpose") || !strings.Contains(ie.Status, "exit status 4") {
		t.Errorf("init error = %+v", ie)
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := lambdaruntime.Start(context.Background(), lambdaruntime.Options{BinaryPath: t.TempDir() + "/nope"})
	if err == nil {
		t.Fatal("Start succeeded with a missing binary")
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{Workers: 2})
	out, err := p.Invoke(context.Background(), event("/spawn", nil))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PID       int `json:"pid"`
		WorkerPID int `json:"worker_pid"`
	}
	body(t, out, &v)
	var pids []int
	for _, w := range p.Workers() {
		pids = append(pids, w.PID)
	}
	if len(pids) != 2 || !alive(v.PID) {
		t.Fatalf("workers %v, grandchild %d alive=%v", pids, v.PID, alive(v.PID))
	}
	p.Close()
	// Close returns after the workers are reaped; the grandchild, killed
	// with the group, may take a moment to leave the process table.
	for _, pid := range append(pids, v.PID) {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	if _, err := p.Invoke(context.Background(), event("/pid", nil)); !errors.Is(err, lambdaruntime.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}

func TestShutdownDrainsInFlight(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), event("/sleep", map[string]string{"ms": "300"}))
		done <- err
	}()
	// Wait until the invocation is running before shutting down.
	time.Sleep(100 * time.Millisecond)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("in-flight invocation failed during drain: %v", err)
		}
	default:
		t.Error("Shutdown returned before the in-flight invocation finished")
	}
}

func TestInvokeHonoursContext(t *testing.T) {
	p := startPool(t, lambdaruntime.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Invoke(ctx, event("/sleep", map[string]string{"ms": "1000"}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}
