// Package smoke checks that a deployed (or local) API answers as CLI.md
// says: /health and /hello with the API key, and 403 without it. Each check
// is retried with exponential backoff and jitter until the timeout, because
// a fresh API Gateway deployment takes a while to propagate; the report says
// for each check what was sent, what came back and why it failed.
package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/challengectl/challengectl/internal/secret"
)

// Defaults.
const (
	DefaultTimeout = 60 * time.Second
	DefaultName    = "challengectl"
	// attemptTimeout bounds one request, so one hung answer cannot eat the
	// whole budget; API Gateway itself gives up after 29 s.
	attemptTimeout = 10 * time.Second
)

// Options of a smoke run.
type Options struct {
	URL     string        // base URL, e.g. https://abc.execute-api.us-east-1.amazonaws.com/prod
	APIKey  string        // sent as x-api-key; never logged
	Name    string        // for /hello?name=; default "challengectl"
	Timeout time.Duration // for all checks together; default 60 s
	// InitialBackoff is the first wait between attempts (default 250 ms);
	// it doubles up to MaxBackoff (default 5 s), with full jitter.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	HTTPClient     *http.Client
	Logger         *slog.Logger
}

// Check is the outcome of one check, after its last attempt.
type Check struct {
	Name     string        `json:"name"`
	Method   string        `json:"method"`
	Path     string        `json:"path"`
	Status   int           `json:"status"` // of the last attempt; 0 if no answer
	Latency  time.Duration `json:"-"`      // of the last attempt
	Attempts int           `json:"attempts"`
	Passed   bool          `json:"passed"`
	Reason   string        `json:"reason,omitempty"` // why it failed; empty when passed
}

// MarshalJSON adds latency_ms.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	return json.Marshal(struct {
		plain
		LatencyMS float64 `json:"latency_ms"`
	}{plain(c), float64(c.Latency.Microseconds()) / 1000})
}

// Report of a run: Passed when every check passed.
type Report struct {
	URL    string  `json:"url"`
	Passed bool    `json:"passed"`
	Checks []Check `json:"checks"`
}

// PassedChecks counts the checks that passed.
func (r *Report) PassedChecks() int {
	n := 0
	for _, c := range r.Checks {
		if c.Passed {
			n++
		}
	}
	return n
}

// InputError is an invalid option.
type InputError struct {
	Field string // "URL", "APIKey", "Timeout"
	Msg   string
}

func (e *InputError) Error() string { return "smoke: " + e.Field + ": " + e.Msg }

// ValidateURL checks that u is an absolute http(s) URL.
func ValidateURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return &InputError{"URL", fmt.Sprintf("%q is not a URL: %v", u, err)}
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return &InputError{"URL", fmt.Sprintf("%q is not an absolute http(s) URL", u)}
	}
	if p.RawQuery != "" || p.Fragment != "" {
		return &InputError{"URL", fmt.Sprintf("%q must not carry a query or fragment", u)}
	}
	return nil
}

// spec is what one check sends and expects.
type spec struct {
	name    string
	path    string // with the query
	withKey bool
	status  int
	body    map[string]string // expected JSON fields; nil: body not checked
}

func specs(name string) []spec {
	q := url.Values{"name": {name}}.Encode()
	return []spec{
		{name: "health", path: "/health", withKey: true, status: http.StatusOK, body: map[string]string{"status": "ok"}},
		{name: "hello", path: "/hello?" + q, withKey: true, status: http.StatusOK, body: map[string]string{"message": "Hello, " + name + "!"}},
		{name: "no-key", path: "/health", withKey: false, status: http.StatusForbidden},
	}
}

// Run performs the checks concurrently, each retried until it passes or
// the timeout is spent. It returns an error only for invalid options or when
// ctx is cancelled; failed checks are in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := ValidateURL(o.URL); err != nil {
		return nil, err
	}
	if o.APIKey == "" {
		return nil, &InputError{"APIKey", "an API key is required"}
	}
	if o.Timeout < 0 {
		return nil, &InputError{"Timeout", fmt.Sprintf("must not be negative, got %v", o.Timeout)}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.HTTPClient == nil {
		// No redirects: API Gateway never redirects, and following one
		// would send the key elsewhere.
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(o.URL, "/")
	deadline := time.Now().Add(o.Timeout)
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	sp := specs(o.Name)
	rep := &Report{URL: base, Checks: make([]Check, len(sp))}
	var wg sync.WaitGroup
	for i, s := range sp {
		wg.Go(func() { rep.Checks[i] = runCheck(rctx, o, base, s) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("smoke test interrupted: %w", err)
	}
	rep.Passed = true
	for _, c := range rep.Checks {
		rep.Passed = rep.Passed && c.Passed
	}
	return rep, nil
}

func runCheck(ctx context.Context, o Options, base string, s spec) Check {
	c := Check{Name: s.name, Method: http.MethodGet, Path: s.path}
	wait := o.InitialBackoff
	for {
		prev := c
		c.Attempts++
		c.Status, c.Latency, c.Reason = attempt(ctx, o, base, s)
		if c.Status == 0 && ctx.Err() != nil && prev.Attempts > 0 {
			// The overall timeout cut this attempt short: the previous,
			// complete answer says more about what is wrong.
			c = prev
			c.Reason += fmt.Sprintf(" (still failing after %d attempts, timeout %v)", c.Attempts, o.Timeout)
			return c
		}
		// A server that echoes the request must not leak the key through
		// the reason.
		c.Reason = strings.ReplaceAll(c.Reason, o.APIKey, secret.Mask(o.APIKey))
		c.Passed = c.Reason == ""
		o.Logger.Debug("smoke attempt", "check", s.name, "attempt", c.Attempts, "status", c.Status,
			"latency", c.Latency, "reason", c.Reason)
		if c.Passed {
			return c
		}
		// Full jitter: a random wait up to the current ceiling.
		d := time.Duration(rand.Int64N(int64(wait))) + 1
		dl, _ := ctx.Deadline()
		if time.Until(dl) < d {
			// No time for another attempt: report the last answer.
			if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				c.Reason += fmt.Sprintf(" (still failing after %d attempts, timeout %v)", c.Attempts, o.Timeout)
			}
			return c
		}
		o.Logger.Info("smoke check failing, retrying", "check", s.name, "reason", c.Reason, "in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return c
		case <-t.C:
		}
		wait = min(wait*2, o.MaxBackoff)
	}
}

// attempt sends one request and returns why the answer is wrong ("" if it
// is right).
func attempt(ctx context.Context, o Options, base string, s spec) (int, time.Duration, string) {
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, base+s.path, nil)
	if err != nil {
		return 0, 0, fmt.Sprintf("cannot build request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "challengectl-smoke")
	if s.withKey {
		req.Header.Set("x-api-key", o.APIKey)
	}
	start := time.Now()
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		lat := time.Since(start)
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, lat, fmt.Sprintf("no answer within %v", lat.Round(time.Millisecond))
		}
		return 0, lat, "no answer: " + transportReason(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	lat := time.Since(start)
	if err != nil {
		return resp.StatusCode, lat, fmt.Sprintf("status %d, reading body: %v", resp.StatusCode, transportReason(err))
	}
	return resp.StatusCode, lat, judge(s, resp, body)
}

func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// judge compares an answer with the spec: status first, then content type,
// then the decoded JSON fields.
func judge(s spec, resp *http.Response, body []byte) string {
	if resp.StatusCode != s.status {
		r := fmt.Sprintf("wrong status: got %d, want %d", resp.StatusCode, s.status)
		switch {
		case !s.withKey && resp.StatusCode < 300:
			r += ": the API answers without an API key, it is not protected"
		case s.withKey && resp.StatusCode == http.StatusForbidden:
			r += ": the API key was refused (wrong key, or not yet attached to the usage plan)"
		}
		if snippet := bodySnippet(body); snippet != "" {
			r += "; body " + snippet
		}
		return r
	}
	if s.body == nil {
		return ""
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Sprintf("wrong content type: got %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Sprintf("wrong body: not a JSON object (%v): %s", err, bodySnippet(body))
	}
	for k, want := range s.body {
		v, ok := got[k]
		if !ok {
			return fmt.Sprintf("wrong body: field %q missing, want %q: %s", k, want, bodySnippet(body))
		}
		if sv, isStr := v.(string); !isStr || sv != want {
			gotJSON, _ := json.Marshal(v)
			return fmt.Sprintf("wrong body: %q is %s, want %q", k, gotJSON, want)
		}
	}
	return ""
}

// bodySnippet shows the start of a body in a reason, on one line.
func bodySnippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", s)
}
