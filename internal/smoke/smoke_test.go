package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const key = "test-key-0123456789"

// api is a real HTTP server implementing the API's contract; broken
// variants override one behaviour.
type api struct {
	health    func(w http.ResponseWriter, r *http.Request)
	noKeyOpen bool // answers without a key (not protected)
}

func (a api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != key && !a.noKeyOpen {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Forbidden"})
		return
	}
	switch r.URL.Path {
	case "/prod/health":
		if a.health != nil {
			a.health(w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case "/prod/hello":
		writeJSON(w, http.StatusOK, map[string]string{"message": "Hello, " + r.URL.Query().Get("name") + "!"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func start(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/prod"
}

func fast(url string) Options {
	return Options{URL: url, APIKey: key, Timeout: 400 * time.Millisecond, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
}

func checkByName(t *testing.T, r *Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r)
	return Check{}
}

func TestSmokePasses(t *testing.T) {
	o := fast(start(t, api{}))
	// A name that needs escaping: spaces, &, = and non-ASCII must reach
	// the API intact and come back in the greeting.
	o.Name = "Zoë & co=1 ?"
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Checks) != 3 {
		t.Fatalf("report %+v, want 3 passing checks", rep)
	}
	for _, c := range rep.Checks {
		if !c.Passed || c.Reason != "" || c.Attempts != 1 || c.Latency <= 0 {
			t.Errorf("check %+v", c)
		}
	}
	if got := checkByName(t, rep, "no-key").Status; got != 403 {
		t.Errorf("no-key status %d", got)
	}
	if p := checkByName(t, rep, "hello").Path; p != "/hello?name=Zo%C3%AB+%26+co%3D1+%3F" {
		t.Errorf("hello path %q", p)
	}
}

func TestSmokeBrokenServers(t *testing.T) {
	cases := []struct {
		name   string
		api    api
		check  string
		reason string
	}{
		{"wrong JSON", api{health: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, map[string]string{"status": "degraded"})
		}}, "health", `wrong body: "status" is "degraded", want "ok"`},
		{"not JSON", api{health: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`status: ok`))
		}}, "health", "wrong body: not a JSON object"},
		{"500", api{health: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 500, map[string]string{"message": "Internal server error"})
		}}, "health", "wrong status: got 500, want 200"},
		{"wrong content type", api{health: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}}, "health", `wrong content type: got "text/plain", want application/json`},
		{"200 without a key", api{noKeyOpen: true}, "no-key", "wrong status: got 200, want 403: the API answers without an API key"},
		{"slow", api{health: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}}, "health", "no answer within"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fast(start(t, tc.api))
			begin := time.Now()
			rep, err := Run(context.Background(), o)
			elapsed := time.Since(begin)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Passed {
				t.Fatalf("report passed: %+v", rep)
			}
			c := checkByName(t, rep, tc.check)
			if c.Passed || !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("check %s: passed=%v reason %q, want it to contain %q", c.Name, c.Passed, c.Reason, tc.reason)
			}
			// Retried until the timeout, then given up: several attempts,
			// and not much longer than the timeout.
			if tc.name != "slow" && c.Attempts < 2 {
				t.Errorf("attempts = %d, want retries", c.Attempts)
			}
			if elapsed > o.Timeout+2*time.Second {
				t.Errorf("took %v with a %v timeout", elapsed, o.Timeout)
			}
			// Only the broken check fails.
			for _, other := range rep.Checks {
				if other.Name != tc.check && !other.Passed {
					t.Errorf("unrelated check failed: %+v", other)
				}
			}
		})
	}
}

func TestSmokeRetriesUntilPropagated(t *testing.T) {
	// A fresh deployment answers 403 to the key for a while, then works:
	// the check passes on a later attempt.
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "" && n.Add(1) <= 3 {
			writeJSON(w, 403, map[string]string{"message": "Forbidden"})
			return
		}
		api{}.ServeHTTP(w, r)
	})
	o := fast(start(t, h))
	o.Timeout = 5 * time.Second
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("report %+v", rep)
	}
	total := checkByName(t, rep, "health").Attempts + checkByName(t, rep, "hello").Attempts
	if total != 5 {
		t.Errorf("health+hello attempts = %d, want 3 refused + 2 passing", total)
	}
}

func TestSmokeKeyNeverInReport(t *testing.T) {
	// A server that echoes the request headers in its error body.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, map[string]string{"echo": r.Header.Get("X-Api-Key")})
	})
	rep, err := Run(context.Background(), fast(start(t, h)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), key) {
		t.Errorf("report leaks the key: %s", b)
	}
	if !strings.Contains(string(b), `"latency_ms"`) {
		t.Errorf("report JSON lacks latency_ms: %s", b)
	}
}

func TestSmokeConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(api{})
	url := srv.URL
	srv.Close()
	rep, err := Run(context.Background(), fast(url))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || !strings.Contains(rep.Checks[0].Reason, "no answer") {
		t.Errorf("report %+v", rep)
	}
}

func TestSmokeBadInputAndCancel(t *testing.T) {
	for _, o := range []Options{
		{URL: "example.com/prod", APIKey: key},
		{URL: "ftp://example.com", APIKey: key},
		{URL: "http://example.com/prod?x=1", APIKey: key},
		{URL: "http://example.com", APIKey: ""},
		{URL: "http://example.com", APIKey: key, Timeout: -time.Second},
	} {
		var ie *InputError
		if _, err := Run(context.Background(), o); !errors.As(err, &ie) {
			t.Errorf("Run(%+v) = %v, want InputError", o, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := fast(start(t, api{}))
	if _, err := Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run = %v", err)
	}
}
