package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
)

const key = "secret-key-0123456789"

func parse(t *testing.T, env map[string]string, args ...string) (*Options, error) {
	t.Helper()
	f, _, _ := factory.Test(env)
	var got *Options
	cmd := NewCmdSmoke(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
}

func TestFlags(t *testing.T) {
	o, err := parse(t, nil, "--url", "http://127.0.0.1:1/prod", "--api-key", "k", "--name", "Ada", "--timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "http://127.0.0.1:1/prod" || o.APIKey != "k" || o.Name != "Ada" || o.Timeout != 5*time.Second {
		t.Errorf("options %+v", o)
	}
	// Environment fallbacks; flags win over them.
	env := map[string]string{EnvURL: "https://env.example/prod", EnvKey: "envkey"}
	o, err = parse(t, env)
	if err != nil || o.URL != "https://env.example/prod" || o.APIKey != "envkey" || o.Timeout != 60*time.Second || o.Name != "challengectl" {
		t.Errorf("env: %+v %v", o, err)
	}
	o, err = parse(t, env, "--url", "http://flag.example/x")
	if err != nil || o.URL != "http://flag.example/x" || o.APIKey != "envkey" {
		t.Errorf("flag over env: %+v %v", o, err)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		env   map[string]string
		field string
	}{
		{[]string{"--url", "example.com/prod"}, nil, "--url"},
		{[]string{"--url", "ftp://example.com"}, nil, "--url"},
		{nil, map[string]string{EnvURL: "not a url"}, "--url"},
		{[]string{"--timeout", "0s"}, nil, "--timeout"},
		{[]string{"--name", ""}, nil, "--name"},
	} {
		_, err := parse(t, tc.env, tc.args...)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != tc.field {
			t.Errorf("%v: err = %v, want a usage error on %s", tc.args, err, tc.field)
		}
	}
}

func TestMissingTarget(t *testing.T) {
	f, _, _ := factory.Test(nil)
	err := smokeRun(context.Background(), &Options{Factory: f, Timeout: time.Second, Name: "x"})
	var u *clierr.UsageError
	if !errors.As(err, &u) || u.Field != "--url" || !strings.Contains(u.Fix, "deploy first") {
		t.Errorf("err = %v, want usage error on --url", err)
	}
	err = smokeRun(context.Background(), &Options{Factory: f, URL: "http://x", Timeout: time.Second, Name: "x"})
	if !errors.As(err, &u) || u.Field != "--api-key" {
		t.Errorf("err = %v, want usage error on --api-key", err)
	}
	// The resolver fills what flags and env left out.
	url, k, err := Target(context.Background(), "", "", func(context.Context) (string, string, error) { return "http://from.outputs/prod", "outkey", nil })
	if err != nil || url != "http://from.outputs/prod" || k != "outkey" {
		t.Errorf("Target = %q %q %v", url, k, err)
	}
}

func apiServer(t *testing.T, healthy bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("x-api-key") != key {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		switch {
		case r.URL.Path == "/prod/health" && healthy:
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case r.URL.Path == "/prod/health":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"message":"Internal server error"}`))
		default:
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "Hello, " + r.URL.Query().Get("name") + "!"})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/prod"
}

func TestRunText(t *testing.T) {
	f, out, errOut := factory.Test(map[string]string{"GITHUB_ACTIONS": "true"})
	err := smokeRun(context.Background(), &Options{Factory: f, URL: apiServer(t, true), APIKey: key, Name: "Ada", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"health", "GET /hello?name=Ada", "(no key)", "403", "passed: 3 of 3 checks passed", "secr…"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, key) {
		t.Errorf("stdout shows the key:\n%s", s)
	}
	// Under Actions the key is masked first, and appears nowhere else.
	if !strings.HasPrefix(errOut.String(), "::add-mask::"+key+"\n") || strings.Count(errOut.String(), key) != 1 {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestRunJSONFailure(t *testing.T) {
	f, out, errOut := factory.Test(nil)
	f.Globals.Output = "json"
	err := smokeRun(context.Background(), &Options{Factory: f, URL: apiServer(t, false), APIKey: key, Name: "Ada", Timeout: 300 * time.Millisecond})
	if !clierr.IsSilent(err) || clierr.ExitCode(err, false) != 1 {
		t.Fatalf("err = %v, want a silent failure (exit 1)", err)
	}
	var rep struct {
		Passed bool
		Checks []struct {
			Name      string
			Status    int
			Passed    bool
			Reason    string
			LatencyMS float64 `json:"latency_ms"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if rep.Passed || rep.Checks[0].Name != "health" || rep.Checks[0].Status != 500 || !strings.Contains(rep.Checks[0].Reason, "wrong status: got 500") {
		t.Errorf("report %+v", rep)
	}
	if !rep.Checks[1].Passed || !rep.Checks[2].Passed {
		t.Errorf("hello and no-key should pass: %+v", rep)
	}
	if strings.Contains(out.String()+errOut.String(), key) {
		t.Error("key leaked")
	}
}
