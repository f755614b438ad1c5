package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
)

const key = "load-key-0123456789"

func parse(t *testing.T, env map[string]string, args ...string) (*Options, error) {
	t.Helper()
	f, _, _ := factory.Test(env)
	var got *Options
	cmd := NewCmdLoadtest(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return got, cmd.Execute()
}

func TestFlagsDefaults(t *testing.T) {
	o, err := parse(t, map[string]string{"CHALLENGECTL_API_URL": "http://e/prod", "CHALLENGECTL_API_KEY": "k"})
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "http://e/prod" || o.APIKey != "k" || o.Requests != 200 || o.Concurrency != 50 || o.Rate != 0 ||
		o.Path != "/health" || o.LimitRate != 100 || o.LimitBurst != 50 || o.ExpectThrottle || o.Retry429 != 0 {
		t.Errorf("defaults %+v", o)
	}
	o, err = parse(t, nil, "--url", "http://x/prod", "--duration", "3s", "--rate", "20", "--path", "/hello?name=a", "--expect-throttle",
		"--retry-429", "3", "--limit-rate", "10", "--limit-burst", "5", "--concurrency", "7")
	if err != nil {
		t.Fatal(err)
	}
	// A timed run is not cut at the default 200 requests.
	if o.Requests != 0 || o.Duration != 3*time.Second || o.Rate != 20 || o.Path != "/hello?name=a" || !o.ExpectThrottle ||
		o.Retry429 != 3 || o.LimitRate != 10 || o.LimitBurst != 5 || o.Concurrency != 7 {
		t.Errorf("flags %+v", o)
	}
	o, _ = parse(t, nil, "--duration", "3s", "--requests", "10")
	if o.Requests != 10 {
		t.Errorf("--requests with --duration = %d, want 10", o.Requests)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{[]string{"--url", "localhost:8080"}, "--url"},
		{[]string{"--requests", "0"}, "--requests"},
		{[]string{"--concurrency", "0"}, "--concurrency"},
		{[]string{"--concurrency", "20000"}, "--concurrency"},
		{[]string{"--rate", "-1"}, "--rate"},
		{[]string{"--duration", "-1s"}, "--duration"},
		{[]string{"--path", "health"}, "--path"},
		{[]string{"--retry-429", "11"}, "--retry-429"},
		{[]string{"--limit-rate", "0"}, "--limit-rate"},
		{[]string{"--limit-burst", "-2"}, "--limit-burst"},
		{[]string{"--report", "/no/such/dir/r.html"}, "--report"},
	} {
		_, err := parse(t, nil, tc.args...)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != tc.field {
			t.Errorf("%v: err = %v, want usage error on %s", tc.args, err, tc.field)
		}
	}
}

// limited is a server with the API's shape enforcing a real token bucket.
func limited(t *testing.T, r rate.Limit, burst int) string {
	lim := rate.NewLimiter(r, burst)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if req.Header.Get("x-api-key") != key {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		if !lim.Allow() {
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"message":"Too Many Requests"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/prod"
}

func opts(f *factory.Factory, url string) *Options {
	return &Options{Factory: f, URL: url, APIKey: key, Requests: 200, Concurrency: 50, Path: "/health", LimitRate: 100, LimitBurst: 50}
}

func TestRunJSONWithReport(t *testing.T) {
	f, out, errOut := factory.Test(map[string]string{"GITHUB_ACTIONS": "true"})
	f.Globals.Output = "json"
	o := opts(f, limited(t, 100, 50))
	o.ExpectThrottle = true
	o.Report = filepath.Join(t.TempDir(), "report.html")
	if err := loadtestRun(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var doc struct {
		Requests     int            `json:"requests"`
		StatusCounts map[string]int `json:"status_counts"`
		LatencyMS    map[string]float64
		Rate         float64 `json:"rate"`
		Throttle     struct{ Predicted, Observed int }
		Retries      map[string]int
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON document on stdout")
	}
	var raw map[string]any
	_ = json.Unmarshal(out.Bytes(), &raw)
	if doc.Requests != 200 || doc.StatusCounts["200"]+doc.StatusCounts["429"] != 200 || doc.StatusCounts["429"] == 0 || doc.Rate <= 0 {
		t.Errorf("doc %+v", doc)
	}
	// 200 requests at once into a 50-burst bucket: both see throttling.
	if doc.Throttle.Observed == 0 || doc.Throttle.Predicted == 0 {
		t.Errorf("throttle %+v", doc.Throttle)
	}
	page, err := os.ReadFile(o.Report)
	if err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("report: %v", err)
	}
	if strings.Contains(out.String(), key) || strings.Contains(string(page), key) || strings.Count(errOut.String(), key) != 1 {
		t.Errorf("key leaked or not masked once for Actions: stderr %q", errOut)
	}
}

func TestRunTextExpectThrottleFails(t *testing.T) {
	f, out, errOut := factory.Test(nil)
	o := opts(f, limited(t, rate.Inf, 1))
	o.Requests = 50
	o.ExpectThrottle = true
	err := loadtestRun(context.Background(), o)
	if !clierr.IsSilent(err) || clierr.ExitCode(err, false) != 1 {
		t.Fatalf("err = %v, want exit 1 without a 429", err)
	}
	for _, want := range []string{"Status codes", "200", "Latency (ms)", "p99", "Achieved rate", "0 × 429 observed", "load…"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "expected throttling") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestRunNoAnswerFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	f, _, _ := factory.Test(nil)
	o := opts(f, url)
	o.Requests = 3
	err := loadtestRun(context.Background(), o)
	if err == nil || clierr.ExitCode(err, false) != 1 || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want exit 1 naming the connection error", err)
	}
}

func TestMissingURL(t *testing.T) {
	f, _, _ := factory.Test(nil)
	err := loadtestRun(context.Background(), opts(f, ""))
	var u *clierr.UsageError
	if !errors.As(err, &u) || u.Field != "--url" {
		t.Errorf("err = %v", err)
	}
}
