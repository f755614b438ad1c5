package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/lambdaruntime/lambdatest"
	"github.com/challengectl/challengectl/internal/localapi"
)

// parse runs the flag parsing only (runF) and returns the options or error.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	f, _, _ := factory.Test(nil)
	var got *Options
	cmd := NewCmdLocal(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, err
}

func TestFlagDefaults(t *testing.T) {
	o, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "127.0.0.1:8080" || o.APIKey != "" || o.Timeout != 10*time.Second || o.Workers < 1 {
		t.Errorf("options = %+v", o)
	}
	l := o.Limits
	if l.StageRate != 100 || l.StageBurst != 50 || l.KeyRate != 100 || l.KeyBurst != 50 || l.Quota != 10000 || l.QuotaPeriod != "MONTH" {
		t.Errorf("limits = %+v, want limits.Default()", l)
	}
}

func TestFlags(t *testing.T) {
	o, err := parse(t, "--addr", "127.0.0.1:0", "--api-key", "abcdefghijklmnopqrstuvwxyz", "--rate", "10", "--burst", "5",
		"--key-rate", "3", "--key-burst", "2", "--quota", "7", "--quota-period", "week", "--workers", "3", "--timeout", "2s")
	if err != nil {
		t.Fatal(err)
	}
	l := o.Limits
	if o.Addr != "127.0.0.1:0" || o.Workers != 3 || o.Timeout != 2*time.Second || l.StageRate != 10 || l.StageBurst != 5 ||
		l.KeyRate != 3 || l.KeyBurst != 2 || l.Quota != 7 || l.QuotaPeriod != "WEEK" {
		t.Errorf("options = %+v", o)
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--addr", "nonsense"}, "--addr"},
		{[]string{"--addr", "127.0.0.1:99999"}, "--addr"},
		{[]string{"--addr", "example.com:80"}, "--addr"},
		{[]string{"--api-key", "short"}, "--api-key"},
		{[]string{"--api-key", "has a space in the middle of it"}, "--api-key"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--burst", "-1"}, "--burst"},
		{[]string{"--key-rate", "-5"}, "--key-rate"},
		{[]string{"--key-burst", "0"}, "--key-burst"},
		{[]string{"--quota", "0"}, "--quota"},
		{[]string{"--quota-period", "YEAR"}, "--quota-period"},
		{[]string{"--workers", "0"}, "--workers"},
		{[]string{"--workers", "100000"}, "--workers"},
		{[]string{"--timeout", "0s"}, "--timeout"},
		{[]string{"--timeout", "1h"}, "--timeout"},
		{[]string{"--binary", "/nonexistent/bootstrap"}, "--binary"},
	} {
		_, err := parse(t, tc.args...)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != tc.flag {
			t.Errorf("%v: err = %v, want a usage error on %s", tc.args, err, tc.flag)
		}
	}
}

// run executes the command for real with the test Lambda; ready runs once
// the API serves, and the command is then interrupted like Ctrl-C.
func run(t *testing.T, env map[string]string, output string, ready func(*localapi.Stack), args ...string) (string, string, error) {
	t.Helper()
	f, out, errOut := factory.Test(env)
	f.Globals.Output = output
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := NewCmdLocal(f, func(o *Options) error {
		o.ready = func(s *localapi.Stack) {
			ready(s)
			cancel() // what SIGINT does in internal/app
		}
		return localRun(ctx, o)
	})
	cmd.SetArgs(append([]string{"--binary", lambdatest.TestFunction(t), "--addr", "127.0.0.1:0", "--workers", "2"}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func getWithKey(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServesUntilInterrupted(t *testing.T) {
	var url, key string
	var pids []int
	stdout, stderr, err := run(t, nil, "text", func(s *localapi.Stack) {
		url, key = s.URL, s.APIKey
		for _, w := range s.Pool.Workers() {
			pids = append(pids, w.PID)
		}
		if code, body := getWithKey(t, s.URL+"/hello?name=Ada", s.APIKey); code != 200 || body != `{"message":"Hello, Ada!"}` {
			t.Errorf("/hello: %d %s", code, body)
		}
	})
	if !errors.Is(err, context.Canceled) || clierr.ExitCode(err, true) != clierr.ExitInterrupted {
		t.Fatalf("err = %v, want the interruption (exit 130)", err)
	}
	// The generated key is printed in full: the user needs it.
	for _, want := range []string{url, key, "generated for this run", "100 req/s, burst 50", "quota 10000 per month", "Ctrl-C"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "stopping") || strings.Contains(stderr, key) {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("worker %d survived the interruption", pid)
		}
	}
}

func TestUserKeyIsMaskedAndJSON(t *testing.T) {
	const key = "my-own-secret-key-0123456789"
	stdout, stderr, err := run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "json", func(s *localapi.Stack) {
		if code, _ := getWithKey(t, s.URL+"/health", key); code != 200 {
			t.Errorf("/health with the user's key: %d", code)
		}
	}, "--api-key", key, "--rate", "7")
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if doc["api_key"] != "my-o…" || doc["api_key_generated"] != false || !strings.HasSuffix(doc["url"].(string), "/prod") {
		t.Errorf("doc = %v", doc)
	}
	if lim := doc["limits"].(map[string]any); lim["stage_rate_limit"] != 7.0 || lim["quota_period"] != "MONTH" {
		t.Errorf("limits = %v", lim)
	}
	if strings.Contains(stdout, key) {
		t.Errorf("stdout holds the key")
	}
	// Under GitHub Actions the key is registered for redaction first.
	if !strings.HasPrefix(stderr, "::add-mask::"+key+"\n") {
		t.Errorf("stderr does not start with the mask command:\n%s", stderr)
	}
}

func TestShowSecrets(t *testing.T) {
	const key = "my-own-secret-key-0123456789"
	stdout, _, err := run(t, nil, "text", func(*localapi.Stack) {}, "--api-key", key, "--show-secrets")
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, key) {
		t.Errorf("--show-secrets did not show the key:\n%s", stdout)
	}
	stdout, _, _ = run(t, nil, "text", func(*localapi.Stack) {}, "--api-key", key)
	if strings.Contains(stdout, key) || !strings.Contains(stdout, "my-o…") || !strings.Contains(stdout, "$API_KEY") {
		t.Errorf("the user's key is not masked:\n%s", stdout)
	}
}

func TestAddressInUseIsAUsageError(t *testing.T) {
	f, _, _ := factory.Test(nil)
	hold, err := localapi.Start(context.Background(), localapi.Options{BinaryPath: lambdatest.TestFunction(t), Addr: "127.0.0.1:0", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Shutdown(context.Background())
	cmd := NewCmdLocal(f, nil)
	cmd.SetArgs([]string{"--binary", lambdatest.TestFunction(t), "--addr", hold.Addr})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err = cmd.ExecuteContext(context.Background())
	var u *clierr.UsageError
	if !errors.As(err, &u) || u.Field != "--addr" {
		t.Fatalf("err = %v, want a usage error on --addr", err)
	}
}
